// The warmth capability's worker page (职工之家 /m/): the worker's own campaign benefits and 确认收到.
// Member-only: a benefit belongs to a member record.
import { lazy } from 'react';
import { registerPortalEntry } from '../../portal/registry';

registerPortalEntry({
  capability: 'warmth',
  path: 'warmth/benefits',
  title: '我的慰问',
  description: '查看送温暖慰问，收到后确认',
  memberOnly: true,
  page: lazy(() => import('./MyBenefits')),
});
