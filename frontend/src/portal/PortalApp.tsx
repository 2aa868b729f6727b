import { createBrowserRouter, RouterProvider } from 'react-router';
import { Providers } from '../router';
import { portalRoutes } from './routes';

// The portal is served under /m/ by the API (and by Vite in development at /portal.html → /m/).
const router = createBrowserRouter(portalRoutes(), { basename: '/m' });

export default function PortalApp() {
  return (
    <Providers>
      <RouterProvider router={router} />
    </Providers>
  );
}
