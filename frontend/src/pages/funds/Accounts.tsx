/** 账户余额: accounts by org unit and fund, with balance, reserved and available amounts. */
import { useState } from 'react';
import { Card, Form, Select, Space, Switch, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { LedgerAccountsDocument, type AccountType, type LedgerAccountFilter, type LedgerAccountsQuery } from '../../graphql/generated';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { ACCOUNT_TYPE_LABELS } from '../../lib/labels';
import { Amount, FundSelect } from './shared';

type Row = LedgerAccountsQuery['ledgerAccounts']['nodes'][number];
const PAGE_SIZE = 20;

export default function FundsAccounts() {
  const [filter, setFilter] = useState<LedgerAccountFilter>({ nonZero: true });
  const accounts = useConnection(LedgerAccountsDocument, { filter }, (d) => d.ledgerAccounts, { pageSize: PAGE_SIZE });
  const update = (patch: Partial<LedgerAccountFilter>) => setFilter((f) => ({ ...f, ...patch }));

  const columns: ColumnsType<Row> = [
    { title: '组织', key: 'unit', render: (_, r) => r.orgUnit?.name ?? '—' },
    { title: '经费', key: 'fund', render: (_, r) => r.fund?.name ?? '—', responsive: ['sm'] },
    {
      title: '科目',
      key: 'acct',
      render: (_, r) => (
        <Space size={4} wrap>
          <span>
            {r.code} {r.name}
          </span>
          {r.noNegative && <Tag>不可透支</Tag>}
        </Space>
      ),
    },
    { title: '类型', dataIndex: 'type', width: 80, responsive: ['md'], render: (t: AccountType) => ACCOUNT_TYPE_LABELS[t] },
    { title: '余额（元）', dataIndex: 'balanceFen', align: 'right', render: (v) => <Amount fen={v} strong /> },
    { title: '预留（元）', dataIndex: 'reservedFen', align: 'right', responsive: ['md'], render: (v) => <Amount fen={v} /> },
    { title: '可用（元）', dataIndex: 'availableFen', align: 'right', responsive: ['sm'], render: (v) => <Amount fen={v} /> },
  ];

  return (
    <PageContainer title="账户余额" subTitle="各级组织、各项经费的会计科目余额；预留为已审批待支付的金额">
      <Card size="small" className="hj-panel">
        <ConnectionTable<Row>
          source={accounts}
          columns={columns}
          emptyText={filter.nonZero ? '没有余额不为零的账户；关闭“只看有余额的”可查看全部' : '暂无账户'}
          filters={
            <Form layout="inline" className="hj-filter-form" name="accounts-filter">
              <Form.Item label="组织（含下级）" name="subtreeOf">
                <OrgUnitPicker onChange={(v) => update({ subtreeOf: v ?? null })} placeholder="全部组织" />
              </Form.Item>
              <Form.Item label="经费" name="fund">
                <FundSelect onChange={(v) => update({ fund: v ?? null })} />
              </Form.Item>
              <Form.Item label="科目类型" name="type">
                <Select
                  allowClear
                  placeholder="全部"
                  style={{ width: 110 }}
                  onChange={(v?: AccountType) => update({ type: v ?? null })}
                  options={Object.entries(ACCOUNT_TYPE_LABELS).map(([value, label]) => ({ value, label }))}
                />
              </Form.Item>
              <Form.Item label="只看有余额的" name="nonZero" valuePropName="checked" initialValue>
                <Switch onChange={(v) => update({ nonZero: v })} />
              </Form.Item>
            </Form>
          }
        />
        <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
          金额单位：元。余额按科目的正常方向计：资产、支出类为借方余额，负债、净资产、收入类为贷方余额。
        </Typography.Paragraph>
      </Card>
    </PageContainer>
  );
}
