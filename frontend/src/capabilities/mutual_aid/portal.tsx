// The mutual-aid capability's worker self-service (职工之家 /m/): shown where the worker's province
// enables `mutual_aid`, to workers bound to a member record (cover and claims are the member's own).
import { lazy } from 'react';
import { registerPortalEntry } from '../../portal/registry';

registerPortalEntry({
  capability: 'mutual_aid',
  path: 'mutual-aid/cover',
  title: '我的互助保障',
  description: '参保计划、保障期、已用与剩余额度；在线申请互助金',
  memberOnly: true,
  page: lazy(() => import('./MyCover')),
});
