/** 我要求助: a worker submits a need for themselves; routing starts at their own union. */
import { useNavigate } from 'react-router';
import { Alert, Button, Card, Form, Input, Select, message } from 'antd';
import { gql } from '../../../api/client';
import { useGql } from '../../../api/useGql';
import { FormAlert } from '../../../components/FormAlert';
import { ErrorState } from '../../../components/states';
import { useMutationForm } from '../../../components/MutationDialog';
import { SnRequestCategoriesDocument, SnWorkerSubmitDocument } from '../../../graphql/generated';

interface Values { category: string; summary: string }

export default function SubmitRequest() {
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const cats = useGql(SnRequestCategoriesDocument);
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: Values) => (await gql(SnWorkerSubmitDocument, { category: v.category, summary: v.summary.trim() })).workerServiceRequestSubmit,
    isDone: (r) => !!r.request,
    onDone: async () => {
      message.success('已提交，工会将尽快与您联系');
      navigate('/service-requests');
    },
  });
  return (
    <>
      <h1 className="hj-portal-title">我要求助</h1>
      {cats.error && <ErrorState error={cats.error} onRetry={() => void cats.refetch()} />}
      <Card size="small">
        <FormAlert errors={formErrors} />
        <Form form={form} layout="vertical" name="sn-portal-request" onFinish={(v) => void submit(v)}>
          <Form.Item label="求助类别" name="category" rules={[{ required: true, message: '请选择求助类别' }]}>
            <Select loading={cats.loading}
              options={(cats.data?.serviceRequestCategories ?? []).map((c) => ({ value: c.code, label: `${c.labelZh}（${c.firstResponseHours}小时内回应）` }))} />
          </Form.Item>
          <Form.Item label="具体情况" name="summary" rules={[{ required: true, whitespace: true, message: '请简要说明您的情况' }]}>
            <Input.TextArea rows={4} maxLength={1000} showCount placeholder="如：工地拖欠三个月工资，共约两万元" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>提交</Button>
        </Form>
      </Card>
      <Alert style={{ marginTop: 12 }} type="info" showIcon message="紧急情况请拨打职工服务热线 12351" />
    </>
  );
}
