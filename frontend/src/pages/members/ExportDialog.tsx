/** Export the filtered members (masked by default) as a background job, then download the file. */
import { useState } from 'react';
import { Alert, Button, Checkbox, Form, Input, Modal, Progress, Radio, Result, Select } from 'antd';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { downloadFile } from '../../api/files';
import { usePoll } from '../../api/usePoll';
import { useGql } from '../../api/useGql';
import { MemberExportDocument, MemberExportStartDocument, PiiAccessReasonsDocument, type MemberExportFieldsFragment, type MemberExportFormat, type MemberFilter } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { toBigInt } from '../../lib/money';
import { InterruptedJob } from '../../components/InterruptedJob';
import { OTHER_REASON as OTHER, exportReason } from '../../lib/access';

interface ExportForm {
  format: MemberExportFormat;
  unmasked: boolean;
  reason?: string;
  otherReason?: string;
}

function percent(job: { progress: number | string; total: number | string } | null | undefined): number {
  if (!job) return 0;
  const total = Number(toBigInt(job.total));
  return total > 0 ? Math.min(100, Math.round((Number(toBigInt(job.progress)) / total) * 100)) : 0;
}

export function ExportDialog({ filter, total, onClose }: { filter: MemberFilter; total?: number; onClose: () => void }) {
  const { can } = useAuth();
  const [form] = Form.useForm<ExportForm>();
  const unmasked = Form.useWatch('unmasked', form);
  const reason = Form.useWatch('reason', form);
  const reasons = useGql(PiiAccessReasonsDocument, {}, { skip: !can('member.export_unmasked') });
  const [exp, setExp] = useState<MemberExportFieldsFragment | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const jobActive = exp?.job?.status === 'QUEUED' || exp?.job?.status === 'RUNNING';
  // Poll while the export or its job runs (a retried job runs again before the export says so).
  const running = !!exp && (exp.status === 'QUEUED' || exp.status === 'RUNNING' || (exp.status === 'FAILED' && jobActive));

  const download = async (e: MemberExportFieldsFragment) => {
    if (!e.downloadUrl) return;
    setDownloadError(null);
    try {
      await downloadFile(e.downloadUrl, `会员导出.${e.format.toLowerCase()}`);
    } catch (err) {
      setDownloadError(describeError(err));
    }
  };

  usePoll(
    async () => {
      if (!exp) return;
      const { memberExport } = await gql(MemberExportDocument, { id: exp.id });
      if (!memberExport) return;
      setExp(memberExport);
      if (memberExport.status === 'READY') await download(memberExport);
    },
    1000,
    running,
  );

  const reload = async () => {
    if (!exp) return;
    const { memberExport } = await gql(MemberExportDocument, { id: exp.id });
    if (memberExport) setExp(memberExport);
  };

  // one modal that turns from the form into the export's progress, so the form half uses the hook
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: ExportForm) =>
      (await gql(MemberExportStartDocument, { filter, format: v.format, unmasked: !!v.unmasked, reason: v.unmasked ? exportReason(v) : '' })).memberExportStart,
    isDone: (r) => !!r.memberExport,
    onDone: async (r) => {
      setExp(r.memberExport!);
      if (r.memberExport!.status === 'READY') await download(r.memberExport!);
    },
    errorOptions: { messages: { 'reason.INVALID_INPUT': '请选择导出理由；选“其他”时须写明具体理由（至少 4 个字）', FORBIDDEN: '您没有导出明文的权限' } },
  });

  return (
    <Modal
      open
      title="导出会员"
      onCancel={onClose}
      destroyOnHidden
      footer={
        exp ? (
          <Button onClick={onClose}>关闭</Button>
        ) : (
          <>
            <Button onClick={onClose}>取消</Button>
            <Button type="primary" loading={busy} onClick={() => form.submit()}>
              开始导出
            </Button>
          </>
        )
      }
    >
      {!exp ? (
        <>
          <FormAlert errors={formErrors} />
          <Alert type="info" showIcon style={{ marginBottom: 16 }} message={`将按当前查询条件导出${total !== undefined ? ` ${total.toLocaleString('zh-CN')} 名` : ''}会员。`} />
          <Form<ExportForm> form={form} layout="vertical" name="member-export" onFinish={(v) => void submit(v)} initialValues={{ format: 'XLSX', unmasked: false }}>
            <Form.Item label="文件格式" name="format">
              <Radio.Group options={[{ value: 'XLSX', label: 'Excel（XLSX）' }, { value: 'CSV', label: 'CSV' }]} />
            </Form.Item>
            {can('member.export_unmasked') && (
              <Form.Item name="unmasked" valuePropName="checked">
                <Checkbox>导出完整身份证号和手机号（明文，记入审计日志）</Checkbox>
              </Form.Item>
            )}
            {unmasked && (
              <Form.Item label="导出理由" name="reason" rules={[{ required: true, message: '请选择导出理由' }]}>
                <Select
                  placeholder="请选择"
                  loading={reasons.loading}
                  options={[...(reasons.data?.piiAccessReasons ?? []), OTHER].map((r) => ({ value: r, label: r }))}
                />
              </Form.Item>
            )}
            {unmasked && reason === OTHER && (
              <Form.Item
                label="具体理由"
                name="otherReason"
                rules={[{ required: true, whitespace: true, min: 4, message: '请写明具体理由（至少 4 个字）' }]}
              >
                <Input.TextArea rows={2} maxLength={190} showCount />
              </Form.Item>
            )}
          </Form>
        </>
      ) : exp.status !== 'READY' && exp.status !== 'EXPIRED' && exp.job?.status === 'INTERRUPTED' ? (
        <InterruptedJob job={exp.job} what="导出" onRetried={reload} />
      ) : exp.status === 'FAILED' && !jobActive ? (
        <Result status="error" title="导出失败" subTitle="请稍后重试；如果问题持续出现，请联系系统管理员。" />
      ) : exp.status === 'EXPIRED' ? (
        <Result status="warning" title="导出文件已过期" subTitle="导出文件超过保留期限，已自动删除。如仍需要，请重新导出。" />
      ) : exp.status === 'READY' ? (
        <Result
          status="success"
          title={`已导出 ${exp.rowCount.toLocaleString('zh-CN')} 名会员`}
          subTitle={exp.unmasked ? '文件含明文个人信息，请妥善保管，用后删除。' : '文件中的身份证号、手机号已脱敏。'}
          extra={
            <>
              {downloadError && <Alert type="error" showIcon message={`下载失败：${downloadError}`} style={{ marginBottom: 12 }} />}
              <Button type="primary" onClick={() => void download(exp)}>
                再次下载
              </Button>
            </>
          }
        />
      ) : (
        <div role="status" aria-live="polite">
          <p>正在生成导出文件…</p>
          <Progress percent={percent(exp.job)} status="active" />
        </div>
      )}
    </Modal>
  );
}
