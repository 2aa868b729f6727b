import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, type RouteObject, useLocation } from 'react-router';
import { RouteError } from '../routes/Guard';
import { LoadingState } from '../components/states';
import { useSession } from '../auth/AuthProvider';
import { PortalLayout } from './PortalLayout';
import { WorkerProvider } from './worker';
import { portalEntries } from './registry';
import './entries';

const Login = lazy(() => import('./pages/Login'));
const Register = lazy(() => import('./pages/Register'));
const Home = lazy(() => import('./pages/Home'));
const MemberCardPage = lazy(() => import('./pages/MemberCard'));
const Bind = lazy(() => import('./pages/Bind'));
const Join = lazy(() => import('./pages/Join'));
const MyData = lazy(() => import('./pages/MyData'));

function page(node: ReactNode) {
  return <Suspense fallback={<LoadingState minHeight={240} />}>{node}</Suspense>;
}

/** Sends anyone without a portal session to /m/login, keeping where they were going. */
function RequireWorker({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const location = useLocation();
  if (!session) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <WorkerProvider>{children}</WorkerProvider>;
}

export function portalRoutes(): RouteObject[] {
  return [
    { path: '/login', errorElement: <RouteError />, element: page(<Login />) },
    { path: '/register', errorElement: <RouteError />, element: page(<Register />) },
    {
      path: '/',
      errorElement: <RouteError />,
      element: (
        <RequireWorker>
          <PortalLayout />
        </RequireWorker>
      ),
      children: [
        { index: true, element: page(<Home />) },
        { path: 'card', element: page(<MemberCardPage />) },
        { path: 'bind', element: page(<Bind />) },
        { path: 'join', element: page(<Join />) },
        { path: 'me', element: page(<MyData />) },
        ...portalEntries().map((e) => {
          const Page = e.page;
          return { path: e.path, element: page(<Page />) };
        }),
        { path: '*', element: <Navigate to="/" replace /> },
      ],
    },
  ];
}
