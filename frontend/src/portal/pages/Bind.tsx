import { useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { Alert, Button, Card, Form, Input } from 'antd';
import { gql } from '../../api/client';
import { applyUserErrors, describeError, type FormLevelError } from '../../api/errors';
import { FormAlert } from '../../components/FormAlert';
import { WorkerBindDocument } from '../../graphql/generated';
import { useWorker } from '../worker';

export default function Bind() {
  const { worker, reload } = useWorker();
  const [form] = Form.useForm<{ code: string }>();
  const [busy, setBusy] = useState<'code' | 'phone' | null>(null);
  const [formErrors, setFormErrors] = useState<FormLevelError[]>([]);
  const navigate = useNavigate();
  if (worker.status === 'MEMBER') return <Navigate to="/card" replace />;

  const bind = async (code: string | null) => {
    setBusy(code ? 'code' : 'phone');
    setFormErrors([]);
    try {
      const res = (await gql(WorkerBindDocument, { code })).workerBind;
      if (res.errors.length) {
        setFormErrors(applyUserErrors(form, res.errors, { fieldMap: { phone: 'none' } }));
        return;
      }
      await reload();
      navigate('/card', { replace: true });
    } catch (e) {
      setFormErrors([{ code: 'INTERNAL', text: describeError(e) }]);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card title="绑定会员身份" size="small">
      {worker.status === 'NOT_MEMBER' && (
        <Alert type="info" showIcon style={{ marginBottom: 12 }} message="未找到使用您身份证号码的会员档案" description="如您尚未入会，请先申请入会。" />
      )}
      <p style={{ color: '#555' }}>
        为防止他人冒用，绑定需证明您是会员本人：输入所在工会为您打印的<strong>绑定码</strong>；或在工会登记的手机号码与注册手机号码一致时直接核验。
      </p>
      <FormAlert errors={formErrors} />
      <Form form={form} layout="vertical" onFinish={(v) => void bind(v.code)} requiredMark={false}>
        <Form.Item name="code" label="绑定码" rules={[{ required: true, message: '请输入绑定码' }]}>
          <Input maxLength={16} autoComplete="one-time-code" style={{ textTransform: 'uppercase' }} />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy === 'code'} disabled={busy !== null}>
          用绑定码绑定
        </Button>
      </Form>
      <Button block style={{ marginTop: 12 }} loading={busy === 'phone'} disabled={busy !== null} onClick={() => void bind(null)}>
        用登记的手机号码核验
      </Button>
    </Card>
  );
}
