/** A member's cover, plan by plan: shares, dates, what was paid and what is left under the caps. */
import { Card, Descriptions, Progress, Tag } from 'antd';
import type { MutualAidCoverFieldsFragment } from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { formatYuan, toBigInt } from '../../lib/money';

type Cover = MutualAidCoverFieldsFragment['covers'][number];

function used(paid: number | string, left: number | string | null | undefined): number | null {
  if (left == null) return null;
  const total = toBigInt(paid) + toBigInt(left);
  return total > 0n ? Number((toBigInt(paid) * 100n) / total) : 0;
}

export function CoverList({ covers, compact = false }: { covers: readonly Cover[]; compact?: boolean }) {
  return (
    <>
      {covers.map((c) => {
        const termUsed = used(c.paidInTermFen, c.termLeftFen);
        return (
          <Card
            key={c.enrolmentId}
            size="small"
            style={{ marginBottom: 12 }}
            data-testid="mutual-aid-cover"
            title={
              <>
                {c.planName} {c.active ? <Tag color="green">保障中</Tag> : <Tag>未在保障期</Tag>}
              </>
            }
          >
            <Descriptions size="small" column={compact ? 1 : { xs: 1, md: 3 }}>
              <Descriptions.Item label="保障期">
                {formatDate(c.coverFrom)} 至 {formatDate(c.coverTo)}
              </Descriptions.Item>
              <Descriptions.Item label="份数">{c.shares} 份</Descriptions.Item>
              <Descriptions.Item label="每次限额">{c.capPerCaseFen == null ? '不设上限' : formatYuan(c.capPerCaseFen)}</Descriptions.Item>
              <Descriptions.Item label="本期已给付">{formatYuan(c.paidInTermFen)}</Descriptions.Item>
              <Descriptions.Item label="本期剩余">{c.termLeftFen == null ? '不设上限' : formatYuan(c.termLeftFen)}</Descriptions.Item>
              <Descriptions.Item label="本年已给付">{formatYuan(c.paidInYearFen)}</Descriptions.Item>
              <Descriptions.Item label="本年剩余">{c.yearLeftFen == null ? '不设上限' : formatYuan(c.yearLeftFen)}</Descriptions.Item>
            </Descriptions>
            {termUsed != null && <Progress percent={termUsed} size="small" format={(p) => `已用${p}%`} />}
          </Card>
        );
      })}
    </>
  );
}
