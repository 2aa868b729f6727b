import { createBrowserRouter, RouterProvider } from 'react-router';
import { Providers, routes } from './router';

const router = createBrowserRouter(routes());

export default function App() {
  return (
    <Providers>
      <RouterProvider router={router} />
    </Providers>
  );
}
