/**
 * THE list block: a Relay connection (first/after, totalCount) shown in a ProTable with the
 * cursor pager under it, and the loading, empty and error states. Every list screen uses it:
 *
 *   const members = useConnection(MembersDocument, { filter }, (d) => d.members, { pageSize: 20 });
 *   <ConnectionTable source={members} columns={columns} filters={<Form …/>} emptyText="暂无会员" />
 *
 * Cursors are opaque, so pages are walked in order (上一页 / 下一页) rather than jumped to; the
 * hook goes back to the first page whenever the other variables (the filters) change.
 */
import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { ProTable, type ProColumns, type ProTableProps } from '@ant-design/pro-components';
import type { ColumnType, ColumnsType } from 'antd/es/table';
import type { TypedDocumentString } from '../graphql/generated';
import { useGql, type QueryState } from '../api/useGql';
import { CursorPager } from './CursorPager';
import { EmptyState, ErrorState } from './states';

export interface Connection<Row> {
  nodes: Row[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

export interface ConnectionSource<Row, R = unknown> {
  query: QueryState<R>;
  connection: Connection<Row> | undefined;
  pageSize: number;
  /** 0-based page number. */
  page: number;
  next: () => void;
  prev: () => void;
  refetch: () => Promise<unknown>;
}

type PageVars = { first?: number | null; after?: string | null };

/**
 * Query one page of a connection. `variables` are everything but `first`/`after`; when they change
 * (a new filter) the walk starts again at the first page, in the same render, so no request goes
 * out with a cursor of the old filter.
 */
export function useConnection<R, V extends PageVars, Row>(
  document: TypedDocumentString<R, V>,
  variables: Omit<V, 'first' | 'after'>,
  select: (data: R) => Connection<Row>,
  options: { pageSize?: number; skip?: boolean } = {},
): ConnectionSource<Row, R> {
  const pageSize = options.pageSize ?? 20;
  const key = JSON.stringify(variables);
  const [walk, setWalk] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  const cursors = walk.key === key ? walk.cursors : [null];
  const page = cursors.length - 1;
  const query = useGql(document, { ...variables, first: pageSize, after: cursors[page] } as V, { skip: options.skip });
  const connection = query.data === undefined ? undefined : select(query.data);
  const endCursor = connection?.pageInfo.endCursor ?? null;
  const next = useCallback(() => {
    if (endCursor) setWalk((w) => ({ key, cursors: [...(w.key === key ? w.cursors : [null]), endCursor] }));
  }, [endCursor, key]);
  const prev = useCallback(() => setWalk((w) => ({ key, cursors: w.key === key && w.cursors.length > 1 ? w.cursors.slice(0, -1) : [null] })), [key]);
  return { query, connection, pageSize, page, next, prev, refetch: query.refetch };
}

function valueAt(row: unknown, dataIndex: ColumnType<unknown>['dataIndex']): unknown {
  if (dataIndex === undefined || dataIndex === null) return undefined;
  const path = Array.isArray(dataIndex) ? dataIndex : [dataIndex];
  return path.reduce<unknown>((v, k) => (v === null || v === undefined ? v : (v as Record<string, unknown>)[k as string]), row);
}

/**
 * Pages write plain antd columns; ProTable calls `render(dom, row, …)` with its own formatted node,
 * so each render gets the raw value back, as antd would pass it. No column is a ProTable search field:
 * the filters are the page's own form.
 */
function toProColumns<Row>(columns: ColumnsType<Row>): ProColumns<Row>[] {
  return columns.map((c) => {
    const { render, ...rest } = c as ColumnType<Row>;
    const dataIndex = (c as ColumnType<Row>).dataIndex;
    return {
      ...rest,
      search: false,
      render: render ? (_dom: ReactNode, row: Row, index: number) => render(valueAt(row, dataIndex as ColumnType<unknown>['dataIndex']), row, index) : undefined,
    } as ProColumns<Row>;
  });
}

type PassThrough<Row> = Omit<ProTableProps<Row, Record<string, unknown>>, 'dataSource' | 'loading' | 'pagination' | 'request' | 'columns' | 'search'>;

export function ConnectionTable<Row extends Record<string, unknown> | object>({
  source,
  columns,
  filters,
  emptyText = '暂无数据',
  emptyExtra,
  rowKey = 'id',
  size = 'middle',
  scrollX = 560,
  ...rest
}: {
  source: ConnectionSource<Row>;
  columns: ColumnsType<Row>;
  /** The filter form, shown above the table (its values go into the hook's variables). */
  filters?: ReactNode;
  /** What the empty table says (with a hint of what to do). */
  emptyText?: ReactNode;
  emptyExtra?: ReactNode;
  scrollX?: number;
} & PassThrough<Row>) {
  const { query, connection } = source;
  const proColumns = useMemo(() => toProColumns(columns), [columns]);
  const locale = useMemo(() => ({ emptyText: <EmptyState description={emptyText}>{emptyExtra}</EmptyState> }), [emptyText, emptyExtra]);
  return (
    <div className="hj-connection-table">
      {filters}
      {query.error ? (
        <ErrorState error={query.error} onRetry={() => void source.refetch()} />
      ) : (
        <>
          <ProTable<Row, Record<string, unknown>>
            ghost
            rowKey={rowKey as never}
            size={size}
            columns={proColumns}
            dataSource={connection?.nodes ?? []}
            loading={query.loading}
            pagination={false}
            search={false}
            options={false}
            toolBarRender={false}
            scroll={{ x: scrollX }}
            locale={locale}
            {...(rest as PassThrough<Row>)}
          />
          {connection && (
            <CursorPager
              page={source.page}
              pageSize={source.pageSize}
              totalCount={connection.totalCount}
              hasNextPage={connection.pageInfo.hasNextPage}
              onPrev={source.prev}
              onNext={source.next}
              loading={query.loading}
            />
          )}
        </>
      )}
    </div>
  );
}
