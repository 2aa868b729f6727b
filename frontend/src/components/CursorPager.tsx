import { useCallback, useState } from 'react';
import { Button, Space, Typography } from 'antd';
import { LeftOutlined, RightOutlined } from '@ant-design/icons';

/**
 * Relay cursors are opaque, so pages are walked in order: page n+1 starts `after` page n's
 * endCursor. Keeps the stack of cursors so "上一页" works.
 */
export function useCursorPager() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length - 1;
  const after = cursors[page];
  const next = useCallback((endCursor: string | null | undefined) => {
    if (endCursor) setCursors((c) => [...c, endCursor]);
  }, []);
  const prev = useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []);
  const reset = useCallback(() => setCursors([null]), []);
  return { page, after, next, prev, reset };
}

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
