import { lazy } from 'react';
import { BarChartOutlined, FolderOpenOutlined, HeartOutlined } from '@ant-design/icons';
import { defineCapability } from '../types';

export default defineCapability({
  capability: 'hardship',
  label: '困难职工帮扶',
  icon: <HeartOutlined />,
  screens: [
    { path: '/hardship/cases', label: '困难职工档案', icon: <FolderOpenOutlined />, permission: 'hardship.read', page: lazy(() => import('./Cases')) },
    { path: '/hardship/cases/:id', label: '档案详情', permission: 'hardship.read', hideInMenu: true, page: lazy(() => import('./CaseDetail')) },
    { path: '/hardship/dashboard', label: '帮扶统计', icon: <BarChartOutlined />, permission: 'hardship.read', page: lazy(() => import('./Dashboard')) },
  ],
});
