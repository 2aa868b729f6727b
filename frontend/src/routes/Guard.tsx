import type { ReactNode } from 'react';
import { Button, Result } from 'antd';
import { useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthProvider';
import { allows, enabledHere, type PermissionRequirement } from './access';

/**
 * Shows 403 instead of a screen the user may not open (the menu already hides it), and for a
 * capability's screen that this province has not enabled, says so (before any permission talk: no
 * role would help).
 */
export function Guard({ permission, capability, children }: { permission?: PermissionRequirement; capability?: string; children: ReactNode }) {
  const { permissions, capabilities } = useAuth();
  const navigate = useNavigate();
  if (!enabledHere({ capability }, capabilities)) return <CapabilityDisabled />;
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

export function CapabilityDisabled() {
  const navigate = useNavigate();
  return (
    <Result
      status="info"
      title="本省未启用此功能"
      subTitle="该业务模块未在本省开通，因此无法使用此页面。如需开通，请联系省总工会的系统管理员。"
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
