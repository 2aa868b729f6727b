import { lazy } from 'react';
import { BarChartOutlined, PayCircleOutlined, CloudUploadOutlined, FileSearchOutlined, FileTextOutlined, SafetyOutlined, SolutionOutlined, TeamOutlined } from '@ant-design/icons';
import { defineCapability } from '../types';

export default defineCapability({
  capability: 'mutual_aid',
  label: '互助保障',
  icon: <SafetyOutlined />,
  screens: [
    { path: '/mutual-aid/plans', label: '保障计划', icon: <FileTextOutlined />, permission: 'mutual_aid.read', page: lazy(() => import('./Plans')) },
    { path: '/mutual-aid/enrol', label: '单位参保', icon: <TeamOutlined />, permission: 'mutual_aid.read', page: lazy(() => import('./Enrol')) },
    { path: '/mutual-aid/cover', label: '保障查询', icon: <FileSearchOutlined />, permission: 'mutual_aid.read', page: lazy(() => import('./Cover')) },
    { path: '/mutual-aid/claims', label: '互助申请', icon: <SolutionOutlined />, permission: 'mutual_aid.read', page: lazy(() => import('./Claims')) },
    { path: '/mutual-aid/claims/:id', label: '申请详情', permission: 'mutual_aid.read', hideInMenu: true, page: lazy(() => import('./ClaimDetail')) },
    { path: '/mutual-aid/payouts', label: '给付管理', icon: <PayCircleOutlined />, permission: 'mutual_aid.read', page: lazy(() => import('./Payouts')) },
    { path: '/mutual-aid/stays', label: '免申即享', icon: <CloudUploadOutlined />, permission: 'mutual_aid.import', page: lazy(() => import('./Stays')) },
    { path: '/mutual-aid/settlement', label: '年度结算', icon: <BarChartOutlined />, permission: 'mutual_aid.read', page: lazy(() => import('./Settlement')) },
  ],
});
