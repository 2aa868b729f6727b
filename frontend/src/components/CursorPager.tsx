import { Button, Space, Typography } from 'antd';
import { LeftOutlined, RightOutlined } from '@ant-design/icons';

/** 上一页 / 下一页 under a connection table; the cursor walk itself is `useConnection` (ConnectionTable.tsx). */
export function CursorPager({
  page,
  pageSize,
  totalCount,
  hasNextPage,
  onPrev,
  onNext,
  loading,
}: {
  page: number;
  pageSize: number;
  totalCount: number;
  hasNextPage: boolean;
  onPrev: () => void;
  onNext: () => void;
  loading?: boolean;
}) {
  const pages = Math.max(1, Math.ceil(totalCount / pageSize));
  return (
    <nav aria-label="分页" className="hj-pager">
      <Typography.Text type="secondary">
        共 {totalCount.toLocaleString('zh-CN')} 条 · 第 {page + 1} / {pages} 页
      </Typography.Text>
      <Space>
        <Button icon={<LeftOutlined />} disabled={page === 0 || loading} onClick={onPrev}>
          上一页
        </Button>
        <Button disabled={!hasNextPage || loading} onClick={onNext}>
          下一页 <RightOutlined />
        </Button>
      </Space>
    </nav>
  );
}
