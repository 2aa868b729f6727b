import { lazy } from 'react';
import { AuditOutlined, FileDoneOutlined, FileSearchOutlined, GlobalOutlined, ShopOutlined, SolutionOutlined, TeamOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { defineCapability } from '../types';

/** Staff screens need `procurement.read`; an organisation's login (role social_org) holds only
 *  `procurement.org.self`, so it sees its own screens and nothing of the staff side.
 *  The server's document routes share the /procurement/ prefix (/procurement/bid-documents/<n>,
 *  /procurement/org-documents/<n>); a browser opening or reloading a page here still gets the app,
 *  since the server answers an HTML GET that no route takes with index.html. */
export default defineCapability({
  capability: 'procurement',
  label: '购买社会组织服务',
  icon: <ShopOutlined />,
  screens: [
    { path: '/procurement/orgs', label: '社会组织库', icon: <TeamOutlined />, permission: 'procurement.read', page: lazy(() => import('./Orgs')) },
    { path: '/procurement/needs', label: '服务需求清单', icon: <UnorderedListOutlined />, permission: 'procurement.read', page: lazy(() => import('./Needs')) },
    { path: '/procurement/calls', label: '采购项目', icon: <FileSearchOutlined />, permission: 'procurement.read', page: lazy(() => import('./Calls')) },
    { path: '/procurement/calls/:id', label: '采购项目详情', permission: 'procurement.read', hideInMenu: true, page: lazy(() => import('./CallDetail')) },
    { path: '/procurement/contracts', label: '合同与履约', icon: <FileDoneOutlined />, permission: 'procurement.read', page: lazy(() => import('./Contracts')) },
    { path: '/procurement/open-data', label: '开放数据', icon: <GlobalOutlined />, permission: 'procurement.read', page: lazy(() => import('./OpenData')) },
    { path: '/procurement/my-org', label: '入库申请', icon: <SolutionOutlined />, permission: 'procurement.org.self', page: lazy(() => import('./MyOrg')) },
    { path: '/procurement/open-calls', label: '采购公告', icon: <FileSearchOutlined />, permission: 'procurement.org.self', page: lazy(() => import('./OpenCalls')) },
    { path: '/procurement/my-bids', label: '我的投标', icon: <AuditOutlined />, permission: 'procurement.org.self', page: lazy(() => import('./MyBids')) },
    { path: '/procurement/my-contracts', label: '我的合同', icon: <FileDoneOutlined />, permission: 'procurement.org.self', page: lazy(() => import('./MyContracts')) },
  ],
});
