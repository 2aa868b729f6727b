import { lazy } from 'react';
import { EnvironmentOutlined } from '@ant-design/icons';
import { defineCapability } from '../types';

export default defineCapability({
  capability: 'service_network',
  label: '服务阵地',
  icon: <EnvironmentOutlined />,
  screens: [
    { path: '/service-network/items', label: '服务项目清单', permission: 'service_network.read', page: lazy(() => import('./Items')) },
    { path: '/service-network/stations', label: '驿站管理', permission: 'service_network.read', page: lazy(() => import('./Stations')) },
    { path: '/service-network/requests', label: '服务诉求', permission: 'service_network.read', page: lazy(() => import('./Requests')) },
    {
      path: '/service-network/requests/:id', label: '诉求详情', permission: 'service_network.read', hideInMenu: true,
      page: lazy(() => import('./RequestDetail')),
    },
    { path: '/service-network/ratings', label: '满意度评价', permission: 'service_network.read', page: lazy(() => import('./Ratings')) },
  ],
});
