import { lazy } from 'react';
import { BarChartOutlined, GiftOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { defineCapability } from '../types';

export default defineCapability({
  capability: 'warmth',
  label: '送温暖',
  icon: <GiftOutlined />,
  screens: [
    { path: '/warmth/campaigns', label: '送温暖活动', icon: <UnorderedListOutlined />, permission: 'warmth.read', page: lazy(() => import('./Campaigns')) },
    { path: '/warmth/campaigns/:id', label: '活动详情', permission: 'warmth.read', hideInMenu: true, page: lazy(() => import('./CampaignDetail')) },
    { path: '/warmth/figures', label: '送温暖统计', icon: <BarChartOutlined />, permission: 'warmth.read', page: lazy(() => import('./Figures')) },
  ],
});
