/** 我的投标 (an organisation's login): its bids; the price shows again once the call's deadline has passed. */
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { formatYuan } from '../../lib/money';
import { PcMyBidsDocument, PcOpenCallsDocument, type PcMyBidsQuery } from '../../graphql/generated';
import { useGql } from '../../api/useGql';
import { DocumentLinks, dateTime, useListSource } from './common';

type Bid = PcMyBidsQuery['procurementMyBids'][number];

export default function MyBids() {
  const source = useListSource(PcMyBidsDocument, {}, (d) => d.procurementMyBids);
  const calls = useGql(PcOpenCallsDocument, {});
  const callOf = new Map((calls.data?.procurementCalls ?? []).map((c) => [c.id, c]));
  const columns: ColumnsType<Bid> = [
    { title: '采购项目', dataIndex: 'callId', render: (id: string) => callOf.get(id)?.title ?? '—' },
    { title: '项目状态', key: 's', render: (_: unknown, b) => callOf.get(b.callId)?.stateLabel ?? '—' },
    { title: '报价', dataIndex: 'priceFen', render: (v: Bid['priceFen']) => (v === null || v === undefined ? '已密封' : formatYuan(v)), align: 'right' },
    { title: '提交时间', dataIndex: 'submittedAt', render: dateTime },
    // the documents come with the price: listed (and downloadable) only once the call is open
    { title: '投标文件', key: 'documents', render: (_: unknown, b) => (b.priceFen === null || b.priceFen === undefined ? '投标截止后可下载' : <DocumentLinks documents={b.documents} />) },
  ];
  return (
    <PageContainer title="我的投标" subTitle="投标截止前报价密封保存">
      <ConnectionTable<Bid> source={source} columns={columns} emptyText="暂无投标，可在“采购公告”中投标" />
    </PageContainer>
  );
}
