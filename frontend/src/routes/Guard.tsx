import type { ReactNode } from 'react';
import { Button, Result } from 'antd';
import { useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthProvider';
import { allows, type PermissionRequirement } from './access';

/** Shows 403 instead of a screen the user may not open (the menu already hides it). */
export function Guard({ permission, children }: { permission?: PermissionRequirement; children: ReactNode }) {
  const { permissions } = useAuth();
  const navigate = useNavigate();
  if (allows(permission, permissions)) return <>{children}</>;
  return (
    <Result
      status="403"
      title="无权访问"
      subTitle="您的角色没有打开此页面的权限。如需使用，请联系本级工会的系统管理员授权。"
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          返回工作台
        </Button>
      }
    />
  );
}

export function NotFound() {
  const navigate = useNavigate();
  return (
    <Result
      status="404"
      title="页面不存在"
      subTitle="您访问的页面不存在或已被移除。"
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          返回工作台
        </Button>
      }
    />
  );
}

/** Shown when a page throws while rendering (instead of React Router's English developer page). */
export function RouteError() {
  return (
    <Result
      status="error"
      title="页面出错了"
      subTitle="页面发生意外错误。请刷新重试；如果问题持续出现，请联系系统管理员。"
      extra={
        <Button type="primary" onClick={() => window.location.assign('/')}>
          返回工作台
        </Button>
      }
    />
  );
}
