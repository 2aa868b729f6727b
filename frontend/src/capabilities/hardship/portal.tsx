// The hardship capability's worker self-service (职工之家 /m/): registered once, shown only where the
// worker's province enables `hardship`, to workers bound to a member record (the rules need the
// worker's union and region, and an application is for the worker's own household).
import { lazy } from 'react';
import { registerPortalEntry } from '../../portal/registry';

registerPortalEntry({
  capability: 'hardship',
  path: 'hardship/self-test',
  title: '困难自测',
  description: '按本省认定标准测一测，不保存任何信息',
  memberOnly: true,
  page: lazy(() => import('./SelfTest')),
});

registerPortalEntry({
  capability: 'hardship',
  path: 'hardship/cases',
  title: '我的帮扶',
  description: '查看帮扶申请的办理进度',
  memberOnly: true,
  page: lazy(() => import('./MyCases')),
});
