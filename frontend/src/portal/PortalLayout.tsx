import { NavLink, Outlet } from 'react-router';
import { Button } from 'antd';
import { gql } from '../api/client';
import { endSession } from '../auth/session';
import { LogoutDocument } from '../graphql/generated';
import { useWorker } from './worker';

const TABS = [
  { to: '/', label: '首页', end: true },
  { to: '/card', label: '会员卡' },
  { to: '/join', label: '入会' },
  { to: '/me', label: '我的' },
];

export function PortalLayout() {
  const { worker } = useWorker();
  const logout = async () => {
    try {
      await gql(LogoutDocument);
    } finally {
      endSession('LOGOUT');
    }
  };
  return (
    <div className="hj-portal">
      <header className="hj-portal-header">
        <span>职工之家 · {worker.provinceName}</span>
        <Button size="small" ghost onClick={() => void logout()}>
          退出
        </Button>
      </header>
      <main className="hj-portal-main">
        <Outlet />
      </main>
      <nav className="hj-portal-tabs" aria-label="主导航">
        {TABS.map((t) => (
          <NavLink key={t.to} to={t.to} end={t.end} className={({ isActive }) => (isActive ? 'active' : '')}>
            {t.label}
          </NavLink>
        ))}
      </nav>
    </div>
  );
}
