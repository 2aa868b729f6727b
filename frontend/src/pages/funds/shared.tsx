/** Pieces shared by the funds screens: fund picker, amounts, postings table, the manual-entry form. */
import { useMemo, useState } from 'react';
import { Alert, Button, DatePicker, Form, Input, Select, Space, Table, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { gql } from '../../api/client';
import { useGql } from '../../api/useGql';
import { FundsDocument, LedgerConfigDocument, LedgerEntryCreateDocument, type EntrySide, type LedgerEntryCreateMutation } from '../../graphql/generated';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { SIDE_LABELS } from '../../lib/labels';
import { useChartOfAccounts } from '../../api/reference';
import { formatFen, formatYuan, toBigInt, yuanToFen, type Fen } from '../../lib/money';
import { newIdempotencyKey } from '../../lib/download';
import { useAuth } from '../../auth/AuthProvider';

export function Amount({ fen, strong }: { fen: Fen | null | undefined; strong?: boolean }) {
  const neg = toBigInt(fen) < 0n;
  return (
    <Typography.Text strong={strong} type={neg ? 'danger' : undefined} className="hj-amount">
      {formatFen(fen)}
    </Typography.Text>
  );
}

export function useFundOptions() {
  const q = useGql(FundsDocument);
  const options = useMemo(() => (q.data?.funds ?? []).map((f) => ({ value: f.code, label: f.name })), [q.data]);
  return { options, loading: q.loading, error: q.error, funds: q.data?.funds ?? [] };
}

export function FundSelect({ id, value, onChange, allowClear = true, placeholder = '全部经费', style }: { id?: string; value?: string; onChange?: (v: string | undefined) => void; allowClear?: boolean; placeholder?: string; style?: React.CSSProperties }) {
  const { options, loading } = useFundOptions();
  return <Select id={id} value={value} onChange={onChange} options={options} loading={loading} allowClear={allowClear} placeholder={placeholder} style={style ?? { width: 180 }} />;
}


export interface PostingRow {
  side: EntrySide;
  amountFen: Fen;
  code: string;
  accountName?: string;
  orgUnitName?: string;
  fundName?: string;
}

export function PostingsTable({ rows }: { rows: PostingRow[] }) {
  const chart = useChartOfAccounts().data;
  return (
    <Table<PostingRow & { key: number }>
      size="small"
      pagination={false}
      rowKey="key"
      dataSource={rows.map((r, i) => ({ ...r, key: i }))}
      scroll={{ x: 520 }}
      columns={[
        { title: '方向', dataIndex: 'side', width: 60, render: (s: EntrySide) => SIDE_LABELS[s] },
        { title: '科目', key: 'acct', render: (_, r) => `${r.code} ${r.accountName ?? chart?.find((c) => c.code === r.code)?.name ?? ''}` },
        { title: '组织', dataIndex: 'orgUnitName', render: (v?: string) => v ?? '—' },
        { title: '经费', dataIndex: 'fundName', render: (v?: string) => v ?? '—' },
        { title: '借方金额', key: 'dr', align: 'right', render: (_, r) => (r.side === 'DEBIT' ? <Amount fen={r.amountFen} /> : null) },
        { title: '贷方金额', key: 'cr', align: 'right', render: (_, r) => (r.side === 'CREDIT' ? <Amount fen={r.amountFen} /> : null) },
      ]}
    />
  );
}

interface LineForm {
  side?: EntrySide;
  orgUnitId?: string;
  fund?: string;
  code?: string;
  amount?: string;
}

interface ManualEntryForm {
  entryDate: Dayjs;
  memo: string;
  postings: LineForm[];
}

type Result = LedgerEntryCreateMutation['ledgerEntryCreate'];

/**
 * 手工记账: balanced postings in 元, converted to fen exactly. One idempotency key per dialog, so
 * pressing 提交 twice (or retrying after a network error) can never post twice.
 */
export function ManualEntryDialog({ onClose, onDone }: { onClose: () => void; onDone: (r: Result) => Promise<void> }) {
  const chartOptions = (useChartOfAccounts().data ?? []).map((a) => ({ value: a.code, label: `${a.code} ${a.name}` }));
  const { me } = useAuth();
  const home = (me.grants.find((g) => g.role === 'FINANCE') ?? me.grants[0])?.orgUnit ?? null;
  const [form] = Form.useForm<ManualEntryForm>();
  const [key] = useState(() => newIdempotencyKey('manual'));
  const config = useGql(LedgerConfigDocument);
  const lines = Form.useWatch('postings', form) as LineForm[] | undefined;
  const totals = useMemo(() => {
    let dr = 0n;
    let cr = 0n;
    for (const l of lines ?? []) {
      const fen = yuanToFen(l?.amount ?? null);
      if (!fen) continue;
      if (l?.side === 'DEBIT') dr += BigInt(fen);
      if (l?.side === 'CREDIT') cr += BigInt(fen);
    }
    return { dr, cr };
  }, [lines]);
  const threshold = config.data?.ledgerConfig.manualEntryThresholdFen;
  const needsApproval = threshold !== undefined && totals.dr > toBigInt(threshold);

  const balanced = totals.dr === totals.cr && totals.dr > 0n;
  return (
    <MutationDialog<ManualEntryForm, Result>
      title="手工记账"
      okText="提交"
      name="manual-entry"
      width={880}
      form={form}
      onClose={onClose}
      mutate={async (v) =>
        (
          await gql(LedgerEntryCreateDocument, {
            input: {
              idempotencyKey: key,
              memo: v.memo.trim(),
              entryDate: v.entryDate.format('YYYY-MM-DD'),
              postings: v.postings.map((l) => ({ side: l.side!, orgUnitId: l.orgUnitId!, fund: l.fund!, code: l.code!, amountFen: Number(yuanToFen(l.amount!)!) })),
            },
          })
        ).ledgerEntryCreate
      }
      onDone={(r) => onDone(r)}
      errorOptions={{
        messages: {
          'postings.UNBALANCED': '借方合计与贷方合计不相等',
          'postings.INVALID_INPUT': '分录有误：至少两行，同一科目不能重复出现，金额须大于零',
          'amountFen.INSUFFICIENT_FUNDS': '可用余额不足：该笔会使不可透支的账户（现金、银行存款）低于零',
          'amountFen.BUDGET_EXCEEDED': '超出本年度预算，请先由审核人调增预算',
          'entryDate.PERIOD_CLOSED': '该日期所在会计期间已结账',
          'accountId.NOT_FOUND': '科目不存在',
        },
      }}
      initialValues={{
        entryDate: dayjs(),
        postings: [
          { side: 'DEBIT', fund: 'general', code: '102', orgUnitId: home?.id },
          { side: 'CREDIT', fund: 'general', orgUnitId: home?.id },
        ],
      }}
    >
        <Space wrap align="start" size={16}>
          <Form.Item label="记账日期" name="entryDate" rules={[{ required: true, message: '请选择记账日期' }]}>
            <DatePicker allowClear={false} />
          </Form.Item>
          <Form.Item label="摘要" name="memo" rules={[{ required: true, whitespace: true, message: '请填写摘要' }, { max: 500, message: '摘要不能超过 500 个字' }]} style={{ minWidth: 320 }}>
            <Input placeholder="例如：收到市财政拨付的职工服务补助" />
          </Form.Item>
        </Space>
        <Form.List
          name="postings"
          rules={[
            {
              validator: async (_, value?: LineForm[]) => {
                if (!value || value.length < 2) throw new Error('至少需要两行分录');
              },
            },
          ]}
        >
          {(fields, { add, remove }, { errors }) => (
            <div className="hj-entry-lines">
              {fields.map((field, i) => (
                <fieldset key={field.key} className="hj-entry-line">
                  <legend className="hj-sr-only">第 {i + 1} 行分录</legend>
                  <Form.Item name={[field.name, 'side']} label={`方向 ${i + 1}`} rules={[{ required: true, message: '请选择' }]}>
                    <Select style={{ width: 80 }} options={[{ value: 'DEBIT', label: '借' }, { value: 'CREDIT', label: '贷' }]} />
                  </Form.Item>
                  <Form.Item name={[field.name, 'orgUnitId']} label={`组织 ${i + 1}`} rules={[{ required: true, message: '请选择组织' }]} className="hj-entry-unit">
                    <OrgUnitPicker initialOption={home ?? undefined} />
                  </Form.Item>
                  <Form.Item name={[field.name, 'fund']} label={`经费 ${i + 1}`} rules={[{ required: true, message: '请选择经费' }]}>
                    <FundSelect allowClear={false} placeholder="选择经费" style={{ width: 170 }} />
                  </Form.Item>
                  <Form.Item name={[field.name, 'code']} label={`科目 ${i + 1}`} rules={[{ required: true, message: '请选择科目' }]}>
                    <Select showSearch optionFilterProp="label" options={chartOptions} placeholder="科目" style={{ width: 170 }} />
                  </Form.Item>
                  <Form.Item
                    name={[field.name, 'amount']}
                    label={`金额（元） ${i + 1}`}
                    rules={[
                      { required: true, message: '请输入金额' },
                      { validator: async (_, v?: string) => { if (v && (!yuanToFen(v) || yuanToFen(v) === '0')) throw new Error('金额须大于零，最多两位小数'); } },
                    ]}
                  >
                    <Input inputMode="decimal" placeholder="0.00" style={{ width: 140 }} />
                  </Form.Item>
                  <Button type="text" icon={<MinusCircleOutlined />} aria-label={`删除第 ${i + 1} 行`} onClick={() => remove(field.name)} disabled={fields.length <= 2} className="hj-grant-remove" />
                </fieldset>
              ))}
              <Form.ErrorList errors={errors} />
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ side: 'CREDIT', fund: 'general', orgUnitId: home?.id })} block>
                添加分录行
              </Button>
            </div>
          )}
        </Form.List>
      <div className="hj-entry-totals" aria-live="polite">
        <span>
          借方合计 <Typography.Text strong>{formatYuan(totals.dr)}</Typography.Text>
        </span>
        <span>
          贷方合计 <Typography.Text strong>{formatYuan(totals.cr)}</Typography.Text>
        </span>
        {totals.dr !== totals.cr ? <Typography.Text type="danger">借贷不平衡，差额 {formatYuan(totals.dr - totals.cr)}</Typography.Text> : balanced ? <Typography.Text type="success">借贷平衡</Typography.Text> : null}
      </div>
      {threshold !== undefined && (
        <Alert
          style={{ marginTop: 12 }}
          type={needsApproval ? 'warning' : 'info'}
          showIcon
          message={needsApproval ? `金额超过审批阈值 ${formatYuan(threshold)}：提交后须由另一位审核人批准才会入账。` : `金额不超过 ${formatYuan(threshold)} 的手工记账提交后直接入账。`}
        />
      )}
    </MutationDialog>
  );
}
