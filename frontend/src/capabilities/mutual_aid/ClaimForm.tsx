/**
 * The claim form, for staff (a member picked by ID) and for the worker's own claim: the plan and what
 * happened, the costs in 元 (sent as fen), and the documents (PDF, JPEG or PNG, read as base64).
 */
import { Alert, Button, DatePicker, Form, Input, InputNumber, Select, Space, Upload } from 'antd';
import type { FormInstance } from 'antd';
import type { UploadFile } from 'antd/es/upload/interface';
import { UploadOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import type { UserError } from '../../api/errors';
import type { MutualAidClaimInput, MutualAidDocumentKind } from '../../graphql/generated';
import { yuanToFen } from '../../lib/money';
import { DOCUMENT_LABELS, options } from './labels';
import { isDisabilityKind, planOptions, readBase64, type Plan } from './shared';

export interface ClaimValues {
  plan: string;
  memberId?: string;
  kind: string;
  eventDate: Dayjs;
  stay?: [Dayjs, Dayjs];
  hospital?: string;
  coveredCost?: number;
  ownCost?: number;
  gradedOn?: Dayjs;
  treatmentEndedOn?: Dayjs;
  documentKind: MutualAidDocumentKind;
  files?: UploadFile[];
}

/** Where the API's claim fields land on this form. */
export const CLAIM_FIELD_MAP: Record<string, string> = { coveredCostFen: 'coveredCost', ownCostFen: 'ownCost', dischargedOn: 'stay', documents: 'files' };

/**
 * The API reports every eligibility refusal on eventDate, with the rule in extensions.reason; a
 * grading refusal (the day-180 rule) belongs beside the grading date the person has to change.
 */
export function placeClaimErrors<P extends { errors: readonly (UserError & { extensions?: unknown })[] }>(payload: P): P {
  const errors = payload.errors.map((e) => {
    const reason = (e.extensions as { reason?: string } | null | undefined)?.reason;
    return reason === 'GRADING' ? { ...e, field: 'gradedOn' } : e;
  });
  return { ...payload, errors };
}

const MAX_BYTES = 10 * 1024 * 1024;
const iso = (d: Dayjs | undefined) => (d ? d.format('YYYY-MM-DD') : null);
const fen = (yuan: number | undefined) => Number(yuanToFen(yuan ?? 0) ?? 0);

export async function claimInput(v: ClaimValues): Promise<MutualAidClaimInput> {
  const documents = await Promise.all(
    (v.files ?? []).map(async (f) => ({ kind: v.documentKind, filename: f.name, contentBase64: await readBase64(f.originFileObj as Blob) })),
  );
  return {
    plan: v.plan,
    memberId: v.memberId || null,
    kind: v.kind,
    eventDate: iso(v.eventDate) as string,
    admittedOn: iso(v.stay?.[0]),
    dischargedOn: iso(v.stay?.[1]),
    hospital: v.hospital?.trim() ?? '',
    coveredCostFen: fen(v.coveredCost),
    ownCostFen: fen(v.ownCost),
    gradedOn: iso(v.gradedOn),
    treatmentEndedOn: iso(v.gradedOn ? v.treatmentEndedOn : undefined),
    documents,
  };
}

export function ClaimFields({ form, plans, withMember }: { form: FormInstance<ClaimValues>; plans: readonly Plan[]; withMember?: React.ReactNode }) {
  const planCode = Form.useWatch('plan', form);
  const kindCode = Form.useWatch('kind', form);
  const plan = plans.find((p) => p.code === planCode);
  const kind = plan?.claimKinds.find((k) => k.code === kindCode);
  const disability = !!plan && !!kind && isDisabilityKind(plan, kind.code);
  return (
    <>
      <Form.Item label="保障计划" name="plan" rules={[{ required: true, message: '请选择计划' }]}>
        <Select options={planOptions(plans)} onChange={() => form.setFieldValue('kind', undefined)} />
      </Form.Item>
      {withMember}
      <Form.Item label="给付项目" name="kind" rules={[{ required: true, message: '请选择给付项目' }]}>
        <Select options={(plan?.claimKinds ?? []).map((k) => ({ value: k.code, label: k.label }))} disabled={!plan} />
      </Form.Item>
      <Form.Item label="事故（发病）日期" name="eventDate" rules={[{ required: true, message: '请选择日期' }]}>
        <DatePicker style={{ width: '100%' }} />
      </Form.Item>
      {disability && (
        <>
          <Alert
            type="info"
            showIcon
            style={{ marginBottom: 12 }}
            message={`伤残须在治疗终结后评定；治疗未终结的，在事故后第${plan?.disabilityGradingDay ?? 180}天评定，此前的评定不予受理。身故无需填写评定日期。`}
          />
          <Space wrap>
            <Form.Item label="伤残评定日期" name="gradedOn">
              <DatePicker style={{ width: 180 }} />
            </Form.Item>
            <Form.Item label="治疗终结日期" name="treatmentEndedOn" extra="评定时治疗尚未终结的，请留空">
              <DatePicker style={{ width: 180 }} />
            </Form.Item>
          </Space>
        </>
      )}
      <Form.Item label="住院日期" name="stay">
        <DatePicker.RangePicker style={{ width: '100%' }} placeholder={['入院', '出院']} />
      </Form.Item>
      <Form.Item label="医院" name="hospital" rules={[{ max: 100, message: '最多100字' }]}>
        <Input />
      </Form.Item>
      <Space wrap>
        <Form.Item label="医保范围内费用（元）" name="coveredCost">
          <InputNumber min={0} precision={2} style={{ width: 180 }} />
        </Form.Item>
        <Form.Item label="个人自付（元）" name="ownCost">
          <InputNumber min={0} precision={2} style={{ width: 180 }} />
        </Form.Item>
      </Space>
      <Form.Item label="材料类别" name="documentKind" initialValue="APPLICATION">
        <Select options={options(DOCUMENT_LABELS)} />
      </Form.Item>
      <Form.Item
        label="申请材料"
        name="files"
        valuePropName="fileList"
        getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList}
        rules={[
          { required: true, message: '请上传至少一份材料' },
          { validator: async (_, files: UploadFile[] | undefined) => { if ((files ?? []).some((f) => (f.size ?? 0) > MAX_BYTES)) throw new Error('单个文件不能超过10MB'); } },
        ]}
        extra="PDF、JPEG或PNG，单个不超过10MB"
      >
        <Upload beforeUpload={() => false} accept=".pdf,.jpg,.jpeg,.png" multiple>
          <Button icon={<UploadOutlined />}>选择文件</Button>
        </Upload>
      </Form.Item>
    </>
  );
}
