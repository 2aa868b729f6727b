/** Loading, empty and error states: one look everywhere, with Chinese text and ARIA roles. */
import type { ReactNode } from 'react';
import { Button, Empty, Result, Spin } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { describeError } from '../api/errors';

export function LoadingState({ tip = '加载中…', minHeight = 160 }: { tip?: string; minHeight?: number }) {
  return (
    <div role="status" aria-live="polite" aria-busy="true" className="hj-state" style={{ minHeight }}>
      <Spin />
      <span className="hj-state-tip">{tip}</span>
    </div>
  );
}

export function EmptyState({ description = '暂无数据', children }: { description?: ReactNode; children?: ReactNode }) {
  return (
    <div className="hj-state" role="status">
      <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={description}>
        {children}
      </Empty>
    </div>
  );
}

export function ErrorState({ error, onRetry, title = '加载失败' }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div role="alert" className="hj-state">
      <Result
        status="warning"
        title={title}
        subTitle={describeError(error)}
        extra={
          onRetry ? (
            <Button icon={<ReloadOutlined />} onClick={onRetry}>
              重试
            </Button>
          ) : null
        }
      />
    </div>
  );
}

/**
 * The usual three-way switch: error → ErrorState, first load → LoadingState, no rows → EmptyState,
 * otherwise the children. Later reloads keep showing the old data (tables show their own spinner).
 */
export function AsyncView<T>({
  loading,
  error,
  data,
  isEmpty,
  emptyText,
  emptyExtra,
  onRetry,
  children,
}: {
  loading: boolean;
  error: unknown;
  data: T | undefined;
  isEmpty?: (data: T) => boolean;
  emptyText?: ReactNode;
  emptyExtra?: ReactNode;
  onRetry?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (error) return <ErrorState error={error} onRetry={onRetry} />;
  if (data === undefined) return loading ? <LoadingState /> : <EmptyState description={emptyText} />;
  if (isEmpty?.(data)) return <EmptyState description={emptyText}>{emptyExtra}</EmptyState>;
  return <>{children(data)}</>;
}
