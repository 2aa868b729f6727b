/** 困难自测 (portal): the province's classification on the worker's own figures; nothing is stored
 * unless the worker then applies. */
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Alert, Button, Card, Checkbox, Form, Input, InputNumber, Select, Tag } from 'antd';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { HardshipApplyDocument, HardshipSelfTestDocument, type HardshipSelfTestInput, type HardshipSelfTestQuery } from '../../graphql/generated';
import { yuanToFen } from '../../lib/money';
import { HEALTH_LABELS, options } from './labels';

interface Values {
  householdSize: number;
  monthlyIncome: string;
  monthlyRigidExpense: string;
  yearlyHardshipCost?: string;
  health: string;
  homes?: number;
  accident?: boolean;
  migrant?: boolean;
}

type Result = HardshipSelfTestQuery['hardshipSelfTest'];

const yuanRule = { pattern: /^\d+(\.\d{1,2})?$/, message: '请输入金额（元），最多两位小数' };
const fen = (v: string | undefined) => Number(yuanToFen(v ?? '0') ?? '0');

function toInput(v: Values): HardshipSelfTestInput {
  return {
    householdSize: v.householdSize,
    monthlyIncomeFen: fen(v.monthlyIncome),
    monthlyRigidExpenseFen: fen(v.monthlyRigidExpense),
    yearlyHardshipCostFen: fen(v.yearlyHardshipCost),
    health: v.health,
    homes: v.homes ?? 1,
    accident: !!v.accident,
    migrant: !!v.migrant,
  };
}

export default function SelfTest() {
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [result, setResult] = useState<Result | null>(null);
  const [tested, setTested] = useState<Values | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const apply = useMutationForm(form, {
    mutate: async (v: Values) => (await gql(HardshipApplyDocument, { input: toInput(v) })).hardshipApply,
    isDone: (r) => !!r.case,
    onDone: () => navigate('/hardship/cases'),
    errorOptions: { messages: { DUPLICATE: '您的家庭已有在办或在档的帮扶档案，请在“我的帮扶”查看进度' } },
  });

  const test = async (v: Values) => {
    setBusy(true);
    setError(null);
    apply.setFormErrors([]);
    try {
      setResult((await gql(HardshipSelfTestDocument, { input: toInput(v) })).hardshipSelfTest);
      setTested(v);
    } catch (e) {
      setResult(null);
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1 style={{ fontSize: 18, margin: '4px 4px 12px' }}>困难自测</h1>
      <Card size="small" style={{ marginBottom: 12 }}>
        <p style={{ color: '#666', marginTop: 0 }}>按月填写家庭收支（年收入 ÷ 12）。自测结果仅供参考，不会保存您填写的任何信息。</p>
        <Form<Values>
          form={form}
          layout="vertical"
          name="hardship-self-test"
          initialValues={{ householdSize: 1, health: 'healthy', homes: 1 }}
          onFinish={(v) => void test(v)}
          onValuesChange={() => setResult(null)}
        >
          <Form.Item label="家庭人口" name="householdSize" rules={[{ required: true, message: '请填写家庭人口' }]}>
            <InputNumber min={1} max={20} style={{ width: '100%' }} inputMode="numeric" />
          </Form.Item>
          <Form.Item label="家庭月收入（元）" name="monthlyIncome" rules={[{ required: true, message: '请填写家庭月收入' }, yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
          <Form.Item label="月刚性支出（元）" name="monthlyRigidExpense" rules={[{ required: true, message: '请填写月刚性支出' }, yuanRule]} extra="医疗、教育等必需支出">
            <Input inputMode="decimal" />
          </Form.Item>
          <Form.Item label="本年因病因灾自付费用（元）" name="yearlyHardshipCost" rules={[yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
          <Form.Item label="本人健康状况" name="health">
            <Select options={options(HEALTH_LABELS)} />
          </Form.Item>
          <Form.Item label="家庭住房套数" name="homes">
            <InputNumber min={0} max={100} style={{ width: '100%' }} inputMode="numeric" />
          </Form.Item>
          <Form.Item name="accident" valuePropName="checked" style={{ marginBottom: 4 }}>
            <Checkbox>因重大灾害或意外事故致困</Checkbox>
          </Form.Item>
          <Form.Item name="migrant" valuePropName="checked">
            <Checkbox>农民工</Checkbox>
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            开始自测
          </Button>
        </Form>
      </Card>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 12 }} />}
      {result && tested && (
        <Card size="small" title="自测结果" data-testid="self-test-result">
          <div style={{ marginBottom: 8 }}>
            <Tag color={result.eligible ? 'red' : 'default'} style={{ fontSize: 15, padding: '2px 8px' }}>
              {result.categoryLabel}
            </Tag>
          </div>
          <ul className="hj-plain-list">
            {result.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          <FormAlert errors={apply.formErrors} />
          {result.eligible ? (
            <>
              <p style={{ color: '#666' }}>您可以在线提交帮扶申请，由所在工会初审、入户走访后认定。提交后才会保存您填写的信息。</p>
              <Button type="primary" block loading={apply.busy} onClick={() => void apply.submit(tested)}>
                申请帮扶
              </Button>
            </>
          ) : (
            <p style={{ color: '#666', marginBottom: 0 }}>按您填写的情况暂不符合建档条件；如家庭情况有变化，可联系所在工会或拨打 12351。</p>
          )}
        </Card>
      )}
    </>
  );
}
