import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { PORTAL_SESSION_KEY, setSessionKey } from '../auth/session';
import '../styles.css';
import './portal.css';

// Before anything reads the session: the portal's login is not the staff UI's.
setSessionKey(PORTAL_SESSION_KEY);

const { default: PortalApp } = await import('./PortalApp');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
