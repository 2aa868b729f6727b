/** 入库申请 (an organisation's login): apply to the union's registry, see the decision, add qualification documents. */
import { useState } from 'react';
import { Alert, Button, Card, Checkbox, Form, Input, Select, Upload } from 'antd';
import type { UploadFile } from 'antd';
import { PageContainer } from '../../components/PageContainer';
import { AsyncView } from '../../components/states';
import { MutationDialog, useMutationForm } from '../../components/MutationDialog';
import { FormAlert } from '../../components/FormAlert';
import { useGql } from '../../api/useGql';
import { gql } from '../../api/client';
import {
  PcMyOrgDocument,
  PcOrgApplyDocument,
  PcOrgDocumentAddDocument,
  type PcOrgDocumentAddMutation,
  type SocialOrgFieldsFragment,
} from '../../graphql/generated';
import { DOCUMENT_KINDS, ORG_STATUS, StatusTag, fileBase64, points } from './common';
import { OrgDetail } from './Orgs';

interface ApplyValues {
  name: string; creditCode: string; registrationNo: string; registrationAuthority: string; serviceAreas: string; hasOwnUnion?: boolean;
}

function ApplyForm({ org, onDone }: { org: SocialOrgFieldsFragment | null; onDone: () => void }) {
  const [form] = Form.useForm<ApplyValues>();
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: ApplyValues) => (await gql(PcOrgApplyDocument, {
      input: {
        name: v.name.trim(), creditCode: v.creditCode.trim().toUpperCase(), registrationNo: v.registrationNo.trim(),
        registrationAuthority: v.registrationAuthority.trim(), hasOwnUnion: !!v.hasOwnUnion,
        serviceAreas: v.serviceAreas.split(/[,，\s]+/).filter(Boolean),
      },
    })).procurementOrgApply,
    isDone: (r) => !!r.org,
    onDone,
    errorOptions: { messages: { 'creditCode.INVALID_INPUT': '统一社会信用代码校验不通过', 'creditCode.NOT_ELIGIBLE': '须为民政部门登记的社会组织（代码首位为5）' } },
  });
  return (
    <Card size="small" title={org ? '重新提交入库申请' : '提交入库申请'} className="hj-panel-flow">
      <FormAlert errors={formErrors} />
      <Form<ApplyValues> form={form} layout="vertical" name="pc-apply" onFinish={(v) => void submit(v)}
        initialValues={org ? { ...org, serviceAreas: org.serviceAreas.join(' ') } : undefined}>
        <Form.Item label="组织名称" name="name" rules={[{ required: true, whitespace: true, message: '请填写组织名称' }]}><Input maxLength={200} /></Form.Item>
        <Form.Item label="统一社会信用代码" name="creditCode" rules={[{ required: true, len: 18, message: '请填写18位统一社会信用代码' }]}><Input maxLength={18} /></Form.Item>
        <Form.Item label="登记证号" name="registrationNo" rules={[{ required: true, whitespace: true, message: '请填写登记证号' }]}><Input maxLength={64} /></Form.Item>
        <Form.Item label="登记管理机关" name="registrationAuthority" rules={[{ required: true, whitespace: true, message: '请填写登记管理机关' }]}><Input maxLength={100} placeholder="如：江门市民政局" /></Form.Item>
        <Form.Item label="服务区域（行政区划代码，空格分隔）" name="serviceAreas" rules={[{ required: true, whitespace: true, message: '请填写服务区域' }]}><Input placeholder="如：4407" /></Form.Item>
        <Form.Item name="hasOwnUnion" valuePropName="checked"><Checkbox>本组织已建立工会</Checkbox></Form.Item>
        <Button type="primary" htmlType="submit" loading={busy}>提交申请</Button>
      </Form>
    </Card>
  );
}

function DocumentDialog({ org, onClose, onDone }: { org: SocialOrgFieldsFragment; onClose: () => void; onDone: () => void }) {
  const [files, setFiles] = useState<UploadFile[]>([]);
  return (
    <MutationDialog<{ kind: string }, PcOrgDocumentAddMutation['procurementOrgDocumentAdd']>
      title="上传资质材料" okText="上传" name="pc-doc" onClose={onClose}
      initialValues={{ kind: 'registration_certificate' }}
      mutate={async (v) => {
        const f = files[0]?.originFileObj as File | undefined;
        return (await gql(PcOrgDocumentAddDocument, { orgId: org.id, kind: v.kind, filename: f?.name ?? '', contentBase64: f ? await fileBase64(f) : '' })).procurementOrgDocumentAdd;
      }}
      isDone={(r) => !!r.document}
      onDone={onDone}
    >
      <Form.Item label="材料类型" name="kind" rules={[{ required: true }]}>
        <Select options={Object.entries(DOCUMENT_KINDS).map(([value, label]) => ({ value, label }))} />
      </Form.Item>
      <Form.Item label="文件（PDF、JPEG 或 PNG，不超过10MB）" required>
        <Upload accept=".pdf,.jpg,.jpeg,.png" maxCount={1} fileList={files} beforeUpload={() => false} onChange={(i) => setFiles(i.fileList)}>
          <Button>选择文件</Button>
        </Upload>
      </Form.Item>
    </MutationDialog>
  );
}

export default function MyOrg() {
  const q = useGql(PcMyOrgDocument, {});
  const [uploading, setUploading] = useState(false);
  return (
    <PageContainer title="入库申请" subTitle="向所在工会申请进入社会组织库，入库后方可参与投标">
      <AsyncView {...q} onRetry={() => void q.refetch()}>
        {(d) => {
          const org = d.procurementMyOrg ?? null;
          return (
            <>
              {org && (
                <Card size="small" className="hj-panel-flow" style={{ marginBottom: 12 }}
                  title={<>{org.name} <StatusTag map={ORG_STATUS} value={org.status} /></>}
                  extra={<Button size="small" onClick={() => setUploading(true)}>上传资质材料</Button>}>
                  {org.blacklisted && <Alert type="error" showIcon style={{ marginBottom: 8 }} message="本组织在负面清单期间内，暂不能投标" />}
                  <p>统一社会信用代码：{org.creditCode}　绩效评分：{points(org.scoreBp)}</p>
                  <OrgDetail org={org} />
                </Card>
              )}
              {(!org || org.status === 'rejected') && <ApplyForm org={org} onDone={() => void q.refetch()} />}
              {uploading && org && <DocumentDialog org={org} onClose={() => setUploading(false)} onDone={() => { setUploading(false); void q.refetch(); }} />}
            </>
          );
        }}
      </AsyncView>
    </PageContainer>
  );
}
