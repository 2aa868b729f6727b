/**
 * 名册导入: upload a CSV/XLSX roster → dry-run preview (counts and the first errors) → commit as a
 * job with a real progress bar → result with a downloadable error report (行号, 列, 错误说明).
 */
import { useState } from 'react';
import { App, Alert, Button, Card, Checkbox, Col, Descriptions, Progress, Result, Row, Space, Statistic, Steps, Table, Tag, Typography, Upload } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { DownloadOutlined, InboxOutlined } from '@ant-design/icons';
import { Link } from 'react-router';
import { gql } from '../../api/client';
import { describeError, errorMessage } from '../../api/errors';
import { downloadFile, uploadRoster } from '../../api/files';
import { usePoll } from '../../api/usePoll';
import { useGql } from '../../api/useGql';
import {
  MemberImportCommitDocument,
  MemberImportDiscardDocument,
  MemberImportDocument,
  MemberImportsDocument,
  type MemberImportFieldsFragment,
  type MemberImportQuery,
  type MemberImportStatus,
} from '../../graphql/generated';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { InterruptedJob } from '../../components/InterruptedJob';
import { IMPORT_STATUS_LABELS } from '../../lib/labels';
import { formatDateTime } from '../../lib/format';
import { toBigInt } from '../../lib/money';

type Imp = NonNullable<MemberImportQuery['memberImport']>;
type ImportRow = MemberImportFieldsFragment;

const PREVIEWING: MemberImportStatus[] = ['UPLOADING', 'UPLOADED', 'PREVIEWING'];
const COMMITTING: MemberImportStatus[] = ['COMMITTING'];
const STATUS_COLORS: Partial<Record<MemberImportStatus, string>> = {
  PREVIEWED: 'gold',
  INVALID: 'red',
  COMMITTING: 'blue',
  INTERRUPTED: 'orange',
  COMMITTED: 'green',
  FAILED: 'red',
  DISCARDED: 'default',
  EXPIRED: 'default',
};

function jobPercent(job: { progress: number | string; total: number | string } | null | undefined): number | null {
  if (!job) return null;
  const total = Number(toBigInt(job.total));
  return total > 0 ? Math.min(100, Math.floor((Number(toBigInt(job.progress)) / total) * 100)) : null;
}

/**
 * Why a commit (resume) or discard was refused (INVALID_STATE), from the import's state as it now is:
 * the API answers both from one state, so the UI says what may be done instead.
 */
export function refusalText(status: MemberImportStatus | undefined, action: 'commit' | 'discard'): string {
  switch (status) {
    case 'COMMITTING':
      return '该名册正在导入，请等待导入完成';
    case 'INTERRUPTED':
      return action === 'discard' ? '该名册已有部分行导入，不能放弃：请点击“继续导入”完成剩余的行' : '该名册当前不能继续导入，请刷新后重试';
    case 'COMMITTED':
      return '该名册已导入完成';
    case 'DISCARDED':
      return '该名册已放弃；如需导入，请重新上传';
    case 'EXPIRED':
      return '该名册已超过保留期限，文件已删除；如需导入，请重新上传';
    default:
      return action === 'discard' ? '该名册当前不能放弃' : '该名册当前不能导入（可能已导入或已放弃）';
  }
}

function step(status: MemberImportStatus): number {
  if (PREVIEWING.includes(status)) return 1;
  if (status === 'PREVIEWED' || status === 'INVALID') return 1;
  if (status === 'COMMITTING' || status === 'INTERRUPTED') return 2;
  return 3;
}

function ErrorReportButtons({ imp }: { imp: ImportRow }) {
  const { message } = App.useApp();
  const get = async (url: string, name: string) => {
    try {
      const saved = await downloadFile(url, name);
      message.success(`已下载 ${saved}`);
    } catch (e) {
      message.error(`下载失败：${describeError(e)}`);
    }
  };
  return (
    <Space wrap>
      <Button icon={<DownloadOutlined />} onClick={() => void get(imp.errorReportXlsxUrl, `导入错误报告.xlsx`)}>
        下载错误报告（Excel）
      </Button>
      <Button type="link" onClick={() => void get(imp.errorReportCsvUrl, `导入错误报告.csv`)}>
        CSV 格式
      </Button>
    </Space>
  );
}

function RowErrors({ imp }: { imp: Imp }) {
  const columns: ColumnsType<Imp['errors']['nodes'][number]> = [
    { title: '行号', dataIndex: 'row', width: 70 },
    { title: '列', dataIndex: 'column', width: 110 },
    { title: '错误说明', dataIndex: 'message' },
  ];
  if (imp.errors.totalCount === 0) return null;
  return (
    <>
      <Typography.Title level={3} className="hj-section-title">
        错误明细（前 {imp.errors.nodes.length} 条，共 {imp.errors.totalCount.toLocaleString('zh-CN')} 条）
      </Typography.Title>
      <Table size="small" rowKey={(r) => `${r.row}:${r.column}:${r.code}`} columns={columns} dataSource={imp.errors.nodes} pagination={false} scroll={{ x: 420 }} />
      <div style={{ marginTop: 12 }}>
        <ErrorReportButtons imp={imp} />
      </div>
    </>
  );
}

function CurrentImport({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { message } = App.useApp();
  const q = useGql(MemberImportDocument, { id });
  const [allowErrors, setAllowErrors] = useState(false);
  const [busy, setBusy] = useState(false);
  const imp = q.data?.memberImport;
  const active = !!imp && (PREVIEWING.includes(imp.status) || COMMITTING.includes(imp.status));
  usePoll(
    async () => {
      const before = imp?.status;
      const r = await q.refetch();
      if (r?.memberImport && r.memberImport.status !== before) onChanged();
    },
    800,
    active,
  );

  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  if (!imp) return <EmptyState description="导入记录不存在" />;

  const commit = async () => {
    setBusy(true);
    try {
      const { memberImportCommit: r } = await gql(MemberImportCommitDocument, { id: imp.id, allowErrors });
      if (r.errors.length) {
        if (r.errors[0].code === 'INVALID_STATE') {
          const now = await q.refetch();
          message.error(refusalText(now?.memberImport?.status, 'commit'));
          return;
        }
        message.error(errorMessage(r.errors[0].code, r.errors[0].field, { 'allowErrors.INVALID_INPUT': '名册有错误行：请勾选“跳过有错误的行”或修改后重新上传' }));
        return;
      }
      await q.refetch();
      onChanged();
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const discard = async () => {
    setBusy(true);
    try {
      const { memberImportDiscard: r } = await gql(MemberImportDiscardDocument, { id: imp.id });
      const now = await q.refetch();
      if (r.errors.length)
        message.error(r.errors[0].code === 'INVALID_STATE' ? refusalText(now?.memberImport?.status, 'discard') : errorMessage(r.errors[0].code));
      onChanged();
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const previewPct = jobPercent(imp.previewJob);
  const commitPct = jobPercent(imp.commitJob) ?? (imp.totalRows > 0 ? Math.floor((imp.committedThroughRow / imp.totalRows) * 100) : 0);

  return (
    <Card
      size="small"
      className="hj-panel"
      title={<Typography.Title level={2} className="hj-card-title">{imp.filename}</Typography.Title>}
      extra={<Tag color={STATUS_COLORS[imp.status]}>{IMPORT_STATUS_LABELS[imp.status]}</Tag>}
    >
      <Steps
        size="small"
        current={step(imp.status)}
        status={imp.status === 'INVALID' || imp.status === 'FAILED' ? 'error' : undefined}
        items={[{ title: '上传名册' }, { title: '校验预览' }, { title: '导入' }, { title: '完成' }]}
        style={{ marginBottom: 16 }}
      />
      <div aria-live="polite">
        {PREVIEWING.includes(imp.status) && imp.previewJob?.status === 'INTERRUPTED' && (
          <InterruptedJob job={imp.previewJob} what="名册校验" onRetried={() => q.refetch()} />
        )}
        {PREVIEWING.includes(imp.status) && imp.previewJob?.status !== 'INTERRUPTED' && (
          <div role="status">
            <Typography.Paragraph>正在逐行校验名册（身份证号校验码、必填项、所属工会、文件内重复）…</Typography.Paragraph>
            <Progress percent={previewPct ?? 0} status="active" aria-label="校验进度" />
          </div>
        )}
        {imp.status === 'INVALID' && (
          <>
            <Alert
              type="error"
              showIcon
              message="这个文件不能作为会员名册导入"
              description={
                imp.fileError ? `${imp.fileError.message}${imp.fileError.row ? `（第 ${imp.fileError.row} 行${imp.fileError.column ? `，“${imp.fileError.column}”列` : ''}）` : ''}` : '文件格式有误'
              }
            />
            <div style={{ marginTop: 12 }}>
              <ErrorReportButtons imp={imp} />
            </div>
          </>
        )}
        {imp.status === 'PREVIEWED' && (
          <>
            <Row gutter={[16, 16]}>
              <Col xs={12} md={4}>
                <Statistic title="总行数" value={imp.totalRows} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic title="可导入" value={imp.validRows} valueStyle={{ color: '#389e0d' }} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic title="有错误" value={imp.errorRows} valueStyle={imp.errorRows ? { color: '#cf1322' } : undefined} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic title="将新增" value={imp.wouldCreate} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic title="将更新" value={imp.wouldUpdate} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic title="无变化" value={imp.wouldLeaveUnchanged} />
              </Col>
            </Row>
            <RowErrors imp={imp} />
            <div className="hj-import-actions">
              {imp.errorRows > 0 && (
                <Checkbox checked={allowErrors} onChange={(e) => setAllowErrors(e.target.checked)}>
                  跳过 {imp.errorRows} 行有错误的记录，导入其余 {imp.validRows} 行
                </Checkbox>
              )}
              <Space wrap>
                <Button type="primary" loading={busy} disabled={imp.validRows === 0 || (imp.errorRows > 0 && !allowErrors)} onClick={() => void commit()}>
                  确认导入
                </Button>
                <Button loading={busy} onClick={() => void discard()}>
                  放弃
                </Button>
              </Space>
            </div>
          </>
        )}
        {(imp.status === 'COMMITTING' || imp.status === 'INTERRUPTED') && (
          <div role="status">
            <Typography.Paragraph>
              {imp.status === 'COMMITTING'
                ? '正在导入…'
                : `导入被中断${imp.commitJob?.status === 'INTERRUPTED' ? '（处理导入的服务进程意外停止）' : ''}：已导入的行有记录，继续导入会从中断处接着完成。`}已处理到第 {imp.committedThroughRow.toLocaleString('zh-CN')} 行，共 {imp.totalRows.toLocaleString('zh-CN')} 行。
            </Typography.Paragraph>
            <Progress percent={commitPct} status={imp.status === 'COMMITTING' ? 'active' : 'exception'} aria-label="导入进度" />
            {imp.status === 'INTERRUPTED' && (
              <Button type="primary" loading={busy} onClick={() => void commit()} style={{ marginTop: 12 }}>
                继续导入
              </Button>
            )}
          </div>
        )}
        {imp.status === 'COMMITTED' && (
          <>
            <Result
              status={imp.failed > 0 ? 'warning' : 'success'}
              title="导入完成"
              subTitle={`新增 ${imp.created} 人，更新 ${imp.updated} 人，无变化 ${imp.unchanged} 人${imp.failed > 0 ? `，${imp.failed} 行有错误未导入（见错误报告）` : ''}。`}
              extra={
                <Space wrap>
                  {imp.failed > 0 && <ErrorReportButtons imp={imp} />}
                  <Link to="/members">查看会员</Link>
                </Space>
              }
            />
            <Progress percent={100} aria-label="导入进度" />
          </>
        )}
        {imp.status === 'FAILED' && <Result status="error" title="导入失败" subTitle="请稍后重试；已导入的行不会重复导入。" />}
        {imp.status === 'DISCARDED' && <Alert type="info" showIcon message="已放弃该名册，未导入任何会员。" />}
        {imp.status === 'EXPIRED' && (
          <Alert type="warning" showIcon message="该名册超过保留期限未确认导入，文件已删除。如需导入，请重新上传。" />
        )}
      </div>
      <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginTop: 16 }}>
        <Descriptions.Item label="上传人">{imp.createdByName}</Descriptions.Item>
        <Descriptions.Item label="上传时间">{formatDateTime(imp.createdAt)}</Descriptions.Item>
        <Descriptions.Item label="格式">
          {imp.format.toUpperCase()}
          {imp.encoding ? ` · ${imp.encoding}` : ''}
        </Descriptions.Item>
      </Descriptions>
    </Card>
  );
}

export default function MemberImportPage() {
  const { message } = App.useApp();
  const [currentId, setCurrentId] = useState<string | null>(null);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const list = useConnection(MemberImportsDocument, {}, (d) => d.memberImports, { pageSize: 10 });

  const template = async (fmt: 'xlsx' | 'csv') => {
    try {
      await downloadFile(`/imports/template.${fmt}`, `会员名册导入模板.${fmt}`);
    } catch (e) {
      message.error(`下载失败：${describeError(e)}`);
    }
  };

  return (
    <PageContainer title="导入名册" subTitle="支持 CSV（UTF-8 或 GBK）和 Excel（XLSX）；先校验预览，确认后再导入；同一身份证号重复导入只更新、不重复登记">
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={9}>
          <Card size="small" className="hj-panel" title={<Typography.Title level={2} className="hj-card-title">上传名册</Typography.Title>}>
            <Upload.Dragger
              accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              multiple={false}
              showUploadList={false}
              disabled={uploading}
              customRequest={async ({ file, onSuccess, onError }) => {
                setUploading(true);
                setUploadError(null);
                try {
                  const imp = await uploadRoster(file as File);
                  setCurrentId(imp.id);
                  onSuccess?.(imp);
                  void list.refetch();
                } catch (e) {
                  const text = e instanceof Error && /[\u4e00-\u9fff]/.test(e.message) ? e.message : describeError(e);
                  setUploadError(text);
                  onError?.(e as Error);
                } finally {
                  setUploading(false);
                }
              }}
            >
              <p className="ant-upload-drag-icon">
                <InboxOutlined />
              </p>
              <p className="ant-upload-text">{uploading ? '正在上传…' : '点击或拖入名册文件'}</p>
              <p className="ant-upload-hint">必填列：姓名、身份证号码、所属工会（基层工会的代码或全称）</p>
            </Upload.Dragger>
            {uploadError && <Alert type="error" showIcon role="alert" style={{ marginTop: 12 }} message={`上传失败：${uploadError}`} />}
            <Space wrap style={{ marginTop: 12 }}>
              <Typography.Text type="secondary">下载模板：</Typography.Text>
              <Button size="small" icon={<DownloadOutlined />} onClick={() => void template('xlsx')}>
                Excel 模板
              </Button>
              <Button size="small" icon={<DownloadOutlined />} onClick={() => void template('csv')}>
                CSV 模板
              </Button>
            </Space>
          </Card>
        </Col>
        <Col xs={24} xl={15}>
          {currentId ? (
            <CurrentImport key={currentId} id={currentId} onChanged={() => void list.refetch()} />
          ) : (
            <Card size="small" className="hj-panel">
              <EmptyState description="上传名册后，这里显示校验结果和导入进度" />
            </Card>
          )}
        </Col>
      </Row>
      <Card size="small" className="hj-panel" style={{ marginTop: 16 }} title={<Typography.Title level={2} className="hj-card-title">导入记录</Typography.Title>}>
        <ConnectionTable<ImportRow>
          source={list}
          size="small"
          emptyText="暂无导入记录"
          columns={[
            {
              title: '文件',
              dataIndex: 'filename',
              render: (name: string, r) => (
                <Button type="link" size="small" className="hj-link-button" onClick={() => setCurrentId(r.id)}>
                  {name}
                </Button>
              ),
            },
            { title: '状态', dataIndex: 'status', width: 90, render: (s: MemberImportStatus) => <Tag color={STATUS_COLORS[s]}>{IMPORT_STATUS_LABELS[s]}</Tag> },
            { title: '行数', dataIndex: 'totalRows', width: 80, responsive: ['sm'] },
            { title: '新增/更新', key: 'cu', width: 100, responsive: ['md'], render: (_, r) => `${r.created}/${r.updated}` },
            { title: '上传人', dataIndex: 'createdByName', width: 100, responsive: ['md'] },
            { title: '上传时间', dataIndex: 'createdAt', width: 170, responsive: ['lg'], render: formatDateTime },
          ]}
        />
      </Card>
    </PageContainer>
  );
}
