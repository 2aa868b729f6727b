/** 保障查询: a member's cover by ID number (matched by the server's blind index; shown masked). */
import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Space, Typography } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import { useGql } from '../../api/useGql';
import { describeError } from '../../api/errors';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, LoadingState } from '../../components/states';
import { MutualAidCoverDocument } from '../../graphql/generated';
import { CoverList } from './CoverList';
import { MUTUAL_AID_ERRORS } from './labels';

const ID_PATTERN = /^\d{17}[\dXx]$/;

export default function MutualAidCoverLookup() {
  const [idNumber, setIdNumber] = useState<string>();
  const q = useGql(MutualAidCoverDocument, { idNumber: idNumber ?? '' }, { skip: !idNumber });
  const c = q.data?.mutualAidCover;
  return (
    <PageContainer title="保障查询" subTitle="按身份证号码查询会员的互助保障；结果中的个人信息已脱敏">
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }}>
        <Form layout="inline" name="mutual-aid-cover" onFinish={(v: { idNumber: string }) => setIdNumber(v.idNumber.trim().toUpperCase())}>
          <Form.Item label="身份证号码" name="idNumber" rules={[{ required: true, pattern: ID_PATTERN, message: '请输入18位身份证号码' }]}>
            <Input autoComplete="off" style={{ width: 240 }} />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
              查询
            </Button>
          </Form.Item>
        </Form>
      </Card>
      {!idNumber ? null : q.error ? (
        <Alert type="warning" showIcon message={describeError(q.error, { NOT_FOUND: MUTUAL_AID_ERRORS['idNumber.NOT_FOUND'] })} />
      ) : !c ? (
        <LoadingState />
      ) : (
        <>
          <Space style={{ marginBottom: 12 }} data-testid="cover-member">
            <Typography.Text strong>{c.nameMasked}</Typography.Text>
            <span className="hj-mono-small">{c.idNumberMasked}</span>
          </Space>
          {c.covers.length === 0 ? <EmptyState description="该会员未参加互助保障" /> : <CoverList covers={c.covers} />}
        </>
      )}
    </PageContainer>
  );
}
