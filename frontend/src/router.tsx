import { lazy, Suspense, type ReactNode } from 'react';
import type { RouteObject } from 'react-router';
import { App as AntdApp, ConfigProvider } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { RequireAuth } from './auth/AuthProvider';
import { AppLayout } from './layout/AppLayout';
import { SCREENS } from './routes/registry';
import { Guard, NotFound } from './routes/Guard';
import { LoadingState } from './components/states';

dayjs.locale('zh-cn');

const Login = lazy(() => import('./pages/Login'));

export const THEME = {
  token: {
    colorPrimary: '#c8161d', // 工会红
    borderRadius: 6,
    fontFamily:
      "-apple-system, BlinkMacSystemFont, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Noto Sans SC', 'Helvetica Neue', Arial, sans-serif",
  },
};

export function routes(): RouteObject[] {
  return [
    {
      path: '/login',
      element: (
        <Suspense fallback={<LoadingState minHeight={320} />}>
          <Login />
        </Suspense>
      ),
    },
    {
      path: '/',
      element: (
        <RequireAuth>
          <AppLayout />
        </RequireAuth>
      ),
      children: [
        ...SCREENS.map((s) => {
          const Page = s.page;
          const element = (
            <Guard permission={s.permission}>
              <Page />
            </Guard>
          );
          return s.path === '/' ? { index: true, element } : { path: s.path.slice(1), element };
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
