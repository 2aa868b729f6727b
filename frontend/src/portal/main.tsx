import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { PORTAL_SESSION_KEY, setSessionKey } from '../auth/session';
import PortalApp from './PortalApp';
import '../styles.css';
import './portal.css';

// Before the first render reads it: the portal's login is not the staff UI's.
setSessionKey(PORTAL_SESSION_KEY);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
