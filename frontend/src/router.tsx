import { lazy, Suspense, type ReactNode } from 'react';
import type { RouteObject } from 'react-router';
import { App as AntdApp, ConfigProvider } from 'antd';
import zhCN from 'antd/es/locale/zh_CN'; // ESM build: the CommonJS entry arrives as { default } and loses every text
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { RequireAuth } from './auth/AuthProvider';
import { AppLayout } from './layout/AppLayout';
import { allScreens } from './routes/registry';
import { Guard, NotFound, RouteError } from './routes/Guard';
import { LoadingState } from './components/states';

dayjs.locale('zh-cn');

const Login = lazy(() => import('./pages/Login'));

const reduceMotion = typeof window !== 'undefined' && !!window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;

export const THEME = {
  token: {
    motion: !reduceMotion, // honour the system's “reduce motion” setting
    colorPrimary: '#c8161d', // 工会红
    borderRadius: 6,
    fontFamily:
      "-apple-system, BlinkMacSystemFont, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Noto Sans SC', 'Helvetica Neue', Arial, sans-serif",
  },
};

export function routes(screens = allScreens()): RouteObject[] {
  return [
    {
      path: '/login',
      errorElement: <RouteError />,
      element: (
        <Suspense fallback={<LoadingState minHeight={320} />}>
          <Login />
        </Suspense>
      ),
    },
    {
      path: '/',
      errorElement: <RouteError />,
      element: (
        <RequireAuth>
          <AppLayout />
        </RequireAuth>
      ),
      children: [
        ...screens.map((s) => {
          const Page = s.page;
          const element = (
            <Guard permission={s.permission} capability={s.capability}>
              <Page />
            </Guard>
          );
          // a page that throws keeps the shell (menu, header) around its error message
          return s.path === '/' ? { index: true, element, errorElement: <RouteError /> } : { path: s.path.slice(1), element, errorElement: <RouteError /> };
        }),
        { path: '*', element: <NotFound /> },
      ],
    },
  ];
}

export function Providers({ children }: { children: ReactNode }) {
  return (
    <ConfigProvider locale={zhCN} theme={THEME}>
      <AntdApp>{children}</AntdApp>
    </ConfigProvider>
  );
}
