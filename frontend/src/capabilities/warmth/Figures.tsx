/** 送温暖统计: the national report's figures for the campaigns in the caller's subtree that started in a year. */
import { useState } from 'react';
import { lazy, Suspense } from 'react';
import { Card, Col, InputNumber, Row, Space, Statistic } from 'antd';
import { useGql } from '../../api/useGql';
import { PageContainer } from '../../components/PageContainer';
import { ErrorState, LoadingState } from '../../components/states';
import { WarmthNationalFiguresDocument } from '../../graphql/generated';

const BarChartView = lazy(() => import('../../components/charts/BarChart'));

export default function Figures() {
  const [year, setYear] = useState(new Date().getFullYear());
  const q = useGql(WarmthNationalFiguresDocument, { year });
  const f = q.data?.warmthNationalFigures;
  return (
    <PageContainer
      title="送温暖统计"
      subTitle="全国总工会报表口径：当年开始的活动中已获慰问的人数"
      extra={
        <Space>
          <label htmlFor="warmth-year">年度</label>
          <InputNumber id="warmth-year" min={2000} max={2100} value={year} onChange={(v) => v && setYear(v)} />
        </Space>
      }
    >
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !f ? (
        <LoadingState />
      ) : (
        <Row gutter={[16, 16]}>
          <Col xs={12} md={6}><Card size="small"><Statistic title="慰问总人数" value={f.total} /></Card></Col>
          <Col xs={12} md={6}><Card size="small"><Statistic title="困难职工" value={f.hardship} /></Card></Col>
          <Col xs={12} md={6}><Card size="small"><Statistic title="重点群体" value={f.keyGroups} /></Card></Col>
          <Col xs={12} md={6}><Card size="small"><Statistic title="劳动模范" value={f.modelWorkers} /></Card></Col>
          <Col xs={24}>
            <Card size="small" title={`${year} 年慰问人数`}>
              <Suspense fallback={<LoadingState minHeight={240} />}>
                <BarChartView title={`${year} 年慰问人数`} height={240} data={[{ label: '困难职工', value: f.hardship }, { label: '重点群体', value: f.keyGroups }, { label: '劳动模范', value: f.modelWorkers }]} />
              </Suspense>
            </Card>
          </Col>
        </Row>
      )}
    </PageContainer>
  );
}
