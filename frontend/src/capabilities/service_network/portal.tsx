/** The service network's worker-portal pages (/m/…): finder, check-in, requests, ratings. */
import { lazy } from 'react';
import { registerPortalEntry } from '../../portal/registry';

const CAP = 'service_network';

registerPortalEntry({ capability: CAP, path: 'stations', title: '附近驿站', description: '按距离查找工会驿站、户外劳动者服务站点', page: lazy(() => import('./portal/Finder')) });
registerPortalEntry({ capability: CAP, path: 'stations/check-in', title: '驿站签到', description: '到站扫码签到，记录我的到访', memberOnly: true, page: lazy(() => import('./portal/CheckIn')) });
registerPortalEntry({ capability: CAP, path: 'service-requests/new', title: '我要求助', description: '法律援助、欠薪、劳动争议、心理咨询等', memberOnly: true, page: lazy(() => import('./portal/SubmitRequest')) });
registerPortalEntry({ capability: CAP, path: 'service-requests', title: '我的诉求', description: '查看办理进度', page: lazy(() => import('./portal/MyRequests')) });
registerPortalEntry({ capability: CAP, path: 'ratings/new', title: '服务评价', description: '为用过的驿站和服务打分', memberOnly: true, page: lazy(() => import('./portal/Rate')) });
