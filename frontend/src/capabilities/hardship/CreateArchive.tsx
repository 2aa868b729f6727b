/** 建档申请: a clerk applies for an archive for a member's household, with the household's figures. */
import { useRef, useState } from 'react';
import { Checkbox, Col, Form, Input, InputNumber, Row, Select } from 'antd';
import { gql } from '../../api/client';
import { HardshipArchiveCreateDocument, HardshipMemberSearchDocument, type HardshipArchiveCreateMutation, type HardshipMemberSearchQuery, type HardshipTier } from '../../graphql/generated';
import { MutationDialog } from '../../components/MutationDialog';
import { yuanToFen } from '../../lib/money';
import { TIER_LABELS, WORK_STATUS_LABELS, options } from './labels';

type Found = HardshipMemberSearchQuery['members']['nodes'][number];

interface Values {
  memberId: string;
  tier: HardshipTier;
  areaCode?: string;
  monthlyIncome: string;
  monthlyRigidExpense: string;
  yearlyHardshipCost?: string;
  homes?: number;
  workStatus: string;
  mainCause?: string;
  bankCard?: string;
  accident?: boolean;
  migrant?: boolean;
  temporary?: boolean;
}

const yuanRule = { pattern: /^\d+(\.\d{1,2})?$/, message: '请输入金额（元），最多两位小数' };
const fen = (v: string | undefined) => Number(yuanToFen(v ?? '0') ?? '0');

export function CreateArchiveDialog({ onClose, onDone }: { onClose: () => void; onDone: (archiveId: string) => void }) {
  const [found, setFound] = useState<Found[]>([]);
  const [searching, setSearching] = useState(false);
  const seq = useRef(0);
  const search = async (text: string) => {
    const prefix = text.trim();
    if (!prefix) return;
    const mine = ++seq.current;
    setSearching(true);
    try {
      const d = await gql(HardshipMemberSearchDocument, { namePrefix: prefix });
      if (mine === seq.current) setFound(d.members.nodes);
    } catch {
      if (mine === seq.current) setFound([]);
    } finally {
      if (mine === seq.current) setSearching(false);
    }
  };

  return (
    <MutationDialog<Values, HardshipArchiveCreateMutation['hardshipArchiveCreate']>
      title="建档申请"
      okText="提交申请"
      name="hardship-create"
      width={640}
      onClose={onClose}
      initialValues={{ tier: 'GRASSROOTS', workStatus: 'on_duty', homes: 1 }}
      intro={<p style={{ color: '#666' }}>提交后系统按本省规则自动认定困难类别，并进入初审。收入、支出按月填写（年收入 ÷ 12）。</p>}
      mutate={async (v) => {
        const member = found.find((m) => m.id === v.memberId);
        const household = member?.household?.id ?? '';
        const r = await gql(HardshipArchiveCreateDocument, {
          input: {
            householdId: household,
            tier: v.tier,
            areaCode: v.areaCode?.trim() || null,
            temporary: !!v.temporary,
            migrant: !!v.migrant,
            workStatus: v.workStatus,
            mainCause: v.mainCause?.trim() ?? '',
            bankCard: v.bankCard?.trim() || null,
            finances: {
              monthlyIncomeFen: fen(v.monthlyIncome),
              monthlyRigidExpenseFen: fen(v.monthlyRigidExpense),
              yearlyHardshipCostFen: fen(v.yearlyHardshipCost),
              accident: !!v.accident,
              homes: v.homes ?? 1,
            },
          },
        });
        return r.hardshipArchiveCreate;
      }}
      isDone={(r) => !!r.archive}
      onDone={(r) => onDone(r.archive!.id)}
      errorOptions={{
        fieldMap: { householdId: 'memberId', monthlyIncomeFen: 'monthlyIncome', monthlyRigidExpenseFen: 'monthlyRigidExpense', yearlyHardshipCostFen: 'yearlyHardshipCost' },
        messages: { 'householdId.DUPLICATE': '该家庭已有在档档案（一户一档），不能重复建档', 'householdId.INVALID_INPUT': '请选择已登记家庭的会员' },
      }}
    >
      <Form.Item
        label="申请人（会员）"
        name="memberId"
        rules={[
          { required: true, message: '请选择申请人' },
          {
            validator: async (_, value) => {
              const m = found.find((f) => f.id === value);
              if (value && m && !m.household) throw new Error('该会员尚未登记家庭，请先在会员详情中登记家庭成员');
            },
          },
        ]}
      >
        <Select
          showSearch
          filterOption={false}
          onSearch={(t) => void search(t)}
          loading={searching}
          placeholder="输入姓名搜索会员"
          notFoundContent={searching ? '搜索中…' : '输入姓名搜索'}
          options={found.map((m) => ({ value: m.id, label: `${m.name}（${m.idNumberMasked}，${m.orgUnit?.name ?? ''}${m.household ? `，家庭${m.household.size}人` : '，未登记家庭'}）` }))}
        />
      </Form.Item>
      <Row gutter={12}>
        <Col xs={24} sm={12}>
          <Form.Item label="建档级别" name="tier" rules={[{ required: true, message: '请选择建档级别' }]}>
            <Select options={options(TIER_LABELS)} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="地区代码" name="areaCode" rules={[{ pattern: /^\d{6}$/, message: '6位民政区划代码' }]} extra="不填则使用所属工会的地区代码">
            <Input maxLength={6} inputMode="numeric" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="家庭月收入（元）" name="monthlyIncome" rules={[{ required: true, message: '请填写家庭月收入' }, yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="月刚性支出（元）" name="monthlyRigidExpense" rules={[{ required: true, message: '请填写月刚性支出' }, yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="年度致困支出（元）" name="yearlyHardshipCost" rules={[yuanRule]} extra="患病、意外等当年自付费用">
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="住房套数" name="homes">
            <InputNumber min={0} max={100} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="工作状态" name="workStatus">
            <Select options={options(WORK_STATUS_LABELS)} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="主要致困原因" name="mainCause">
            <Input maxLength={32} placeholder="如：因病、因残、因学" />
          </Form.Item>
        </Col>
        <Col xs={24}>
          <Form.Item label="银行卡号" name="bankCard" rules={[{ pattern: /^\d{12,19}$/, message: '12至19位数字' }]} extra="加密保存，仅显示后四位">
            <Input inputMode="numeric" maxLength={19} />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="accident" valuePropName="checked" style={{ marginBottom: 4 }}>
        <Checkbox>因重大灾害或意外事故致困</Checkbox>
      </Form.Item>
      <Form.Item name="migrant" valuePropName="checked" style={{ marginBottom: 4 }}>
        <Checkbox>农民工</Checkbox>
      </Form.Item>
      <Form.Item name="temporary" valuePropName="checked">
        <Checkbox>临时救助档案</Checkbox>
      </Form.Item>
    </MutationDialog>
  );
}
