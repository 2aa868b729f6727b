import { useEffect, useRef, useState } from 'react';
import { Link, Navigate } from 'react-router';
import { Button, Form, Input, Space } from 'antd';
import { gql } from '../../api/client';
import { applyUserErrors, describeError, formatWait, retryAfterSeconds, type FormLevelError } from '../../api/errors';
import { useSession } from '../../auth/AuthProvider';
import { lastTenant, startSession } from '../../auth/session';
import { FormAlert } from '../../components/FormAlert';
import { useGql } from '../../api/useGql';
import { PortalRegistrationDocument, WorkerPhoneCodeSendDocument, WorkerRegisterDocument } from '../../graphql/generated';
import { AuthShell } from './AuthShell';
import { ProvinceSelect } from './ProvinceSelect';

interface Values {
  tenantCode: string;
  name: string;
  idNumber: string;
  phone: string;
  phoneCode?: string;
  password: string;
  confirm: string;
}

/** 获取验证码: asks the server to text a code, then counts down until another may be asked. */
function PhoneCodeButton({ tenantCode, phone, onErrors }: { tenantCode?: string; phone?: string; onErrors: (e: FormLevelError[], field?: string) => void }) {
  const [wait, setWait] = useState(0);
  const [sending, setSending] = useState(false);
  useEffect(() => {
    if (wait <= 0) return undefined;
    const t = setTimeout(() => setWait((w) => w - 1), 1000);
    return () => clearTimeout(t);
  }, [wait]);
  const send = async () => {
    if (!tenantCode || !phone?.trim()) {
      onErrors([], '请先填写手机号码');
      return;
    }
    setSending(true);
    onErrors([]);
    try {
      const res = (await gql(WorkerPhoneCodeSendDocument, { tenantCode, phone: phone.trim() })).workerPhoneCodeSend;
      if (res.errors.length) {
        const retry = retryAfterSeconds(res.errors[0]);
        if (retry) setWait(retry);
        onErrors([], res.errors[0].messageZh ?? res.errors[0].message);
        return;
      }
      setWait(res.resendAfterSeconds ?? 60);
    } catch (e) {
      onErrors([{ code: 'INTERNAL', text: describeError(e) }]);
    } finally {
      setSending(false);
    }
  };
  return (
    <Button onClick={send} loading={sending} disabled={wait > 0}>
      {wait > 0 ? `${wait} 秒后重发` : '获取验证码'}
    </Button>
  );
}

export default function Register() {
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [formErrors, setFormErrors] = useState<FormLevelError[]>([]);
  const { session } = useSession();
  // Where to go once the session starts (the re-render with a session does the navigation).
  const next = useRef('/');
  const tenantCode = Form.useWatch('tenantCode', form);
  const phone = Form.useWatch('phone', form);
  const rules = useGql(PortalRegistrationDocument, { tenantCode: tenantCode ?? '' }, { skip: !tenantCode });
  const codeRequired = Boolean(tenantCode && rules.data?.portalRegistration?.phoneCodeRequired);
  if (session) return <Navigate to={next.current} replace />;

  const codeErrors = (errors: FormLevelError[], fieldText?: string) => {
    setFormErrors(errors);
    form.setFields([{ name: 'phoneCode', errors: fieldText ? [fieldText] : [] }]);
  };

  const submit = async (v: Values) => {
    setBusy(true);
    setFormErrors([]);
    try {
      const res = (
        await gql(WorkerRegisterDocument, {
          input: {
            tenantCode: v.tenantCode, name: v.name.trim(), idNumber: v.idNumber.trim(), phone: v.phone.trim(), password: v.password,
            ...(codeRequired ? { phoneCode: (v.phoneCode ?? '').trim() } : {}),
          },
        })
      ).workerRegister;
      if (res.errors.length || !res.token || !res.worker) {
        const wait = retryAfterSeconds(res.errors[0]);
        const rest = applyUserErrors(form, res.errors, { fieldMap: { tenantCode: 'tenantCode' } });
        setFormErrors(wait ? [{ code: 'TOO_MANY_ATTEMPTS', text: `注册过于频繁，请 ${formatWait(wait)}后再试` }] : rest);
        return;
      }
      next.current = res.worker.status === 'PROOF_NEEDED' ? '/bind' : '/';
      startSession({ token: res.token, expiresAt: String(res.expiresAt), tenantCode: v.tenantCode, username: res.worker.name });
    } catch (e) {
      setFormErrors([{ code: 'INTERNAL', text: describeError(e) }]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthShell title="职工注册">
      <FormAlert errors={formErrors} />
      <Form form={form} layout="vertical" className="hj-portal-form" onFinish={submit} requiredMark={false}
            initialValues={{ tenantCode: lastTenant() ?? undefined }}>
        <Form.Item name="tenantCode" label="所在省（市）" rules={[{ required: true, message: '请选择所在省（市）' }]}>
          <ProvinceSelect />
        </Form.Item>
        <Form.Item name="name" label="姓名" rules={[{ required: true, message: '请输入姓名' }]}>
          <Input autoComplete="name" maxLength={50} />
        </Form.Item>
        <Form.Item name="idNumber" label="身份证号码" rules={[{ required: true, message: '请输入身份证号码' }]}
                   extra="仅用于核对会员身份，加密保存">
          <Input maxLength={18} autoComplete="off" />
        </Form.Item>
        <Form.Item name="phone" label="手机号码" rules={[{ required: true, message: '请输入手机号码' }]} extra="今后用手机号码登录">
          <Input inputMode="tel" autoComplete="tel" maxLength={20} />
        </Form.Item>
        {codeRequired && (
          <Form.Item label="短信验证码" required extra="验证码 10 分钟内有效，证明手机号码是您本人的">
            <Space.Compact style={{ width: '100%' }}>
              <Form.Item name="phoneCode" noStyle rules={[{ required: true, message: '请输入短信验证码' }]}>
                <Input inputMode="numeric" autoComplete="one-time-code" maxLength={6} aria-label="短信验证码" />
              </Form.Item>
              <PhoneCodeButton tenantCode={tenantCode} phone={phone} onErrors={codeErrors} />
            </Space.Compact>
          </Form.Item>
        )}
        <Form.Item name="password" label="设置密码" rules={[{ required: true, min: 8, message: '密码至少 8 位' }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label="确认密码"
          dependencies={['password']}
          rules={[
            { required: true, message: '请再次输入密码' },
            ({ getFieldValue }) => ({
              validator: (_, value) => (!value || value === getFieldValue('password') ? Promise.resolve() : Promise.reject(new Error('两次输入的密码不一致'))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block size="large" loading={busy}>
          注册
        </Button>
      </Form>
      <p style={{ marginTop: 16, textAlign: 'center' }}>
        已有账号？<Link to="/login">登录</Link>
      </p>
    </AuthShell>
  );
}
