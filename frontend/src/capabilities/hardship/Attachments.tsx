/** An archive's documents: upload (PDF, JPG, PNG up to 10 MB; the server checks the content), list, download. */
import { useState } from 'react';
import { Alert, App, Button, Select, Space, Table, Upload } from 'antd';
import { DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import { gql } from '../../api/client';
import { describeError, errorMessage, type UserError } from '../../api/errors';
import { downloadFile } from '../../api/files';
import { HardshipAttachmentAddDocument, type HardshipArchiveFieldsFragment, type HardshipAttachmentKind } from '../../graphql/generated';
import { formatDateTime } from '../../lib/format';
import { ATTACHMENT_KIND_LABELS, options } from './labels';

type Attachment = HardshipArchiveFieldsFragment['attachments'][number];

const MAX_BYTES = 10 * 1024 * 1024;

/** The server's own Chinese sentence for this case, else the text of its code. */
export function payloadErrorText(e: UserError, overrides?: Record<string, string>): string {
  if (overrides?.[`${e.field}.${e.code}`]) return overrides[`${e.field}.${e.code}`];
  return e.messageZh && /[\u4e00-\u9fff]/.test(e.messageZh) ? e.messageZh : errorMessage(e.code, e.field, overrides);
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function size(bytes: number | string): string {
  const n = Number(bytes);
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

export function Attachments({ archiveId, attachments, canUpload, onChanged }: { archiveId: string; attachments: readonly Attachment[]; canUpload: boolean; onChanged: () => void }) {
  const { message } = App.useApp();
  const [kind, setKind] = useState<HardshipAttachmentKind>('APPLICATION_LETTER');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const send = async (file: File) => {
    setError(null);
    if (file.size > MAX_BYTES) {
      setError('文件超过10MB');
      return;
    }
    setBusy(true);
    try {
      const contentBase64 = await readBase64(file);
      const r = (await gql(HardshipAttachmentAddDocument, { archiveId, kind, filename: file.name, contentBase64 })).hardshipAttachmentAdd;
      if (r.errors.length) {
        setError(payloadErrorText(r.errors[0]));
        return;
      }
      message.success(`已上传：${file.name}`);
      onChanged();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const download = async (a: Attachment) => {
    try {
      await downloadFile(a.downloadUrl, a.filename);
    } catch (e) {
      message.error(`下载失败：${describeError(e)}`);
    }
  };

  return (
    <>
      {canUpload && (
        <Space wrap style={{ marginBottom: 12 }}>
          <Select<HardshipAttachmentKind> aria-label="材料类型" value={kind} onChange={setKind} options={options(ATTACHMENT_KIND_LABELS)} style={{ minWidth: 240 }} />
          <Upload
            accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
            showUploadList={false}
            beforeUpload={(file) => {
              void send(file);
              return Upload.LIST_IGNORE;
            }}
          >
            <Button icon={<UploadOutlined />} loading={busy}>
              上传材料
            </Button>
          </Upload>
        </Space>
      )}
      {error && <Alert type="error" showIcon role="alert" style={{ marginBottom: 12 }} message={error} closable onClose={() => setError(null)} />}
      <Table<Attachment>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={[...attachments]}
        locale={{ emptyText: '尚未上传材料' }}
        scroll={{ x: 480 }}
        columns={[
          { title: '材料类型', dataIndex: 'kind', render: (k: HardshipAttachmentKind) => ATTACHMENT_KIND_LABELS[k] },
          { title: '文件名', dataIndex: 'filename' },
          { title: '大小', dataIndex: 'size', width: 90, responsive: ['md'], render: size },
          { title: '上传时间', dataIndex: 'createdAt', width: 160, responsive: ['lg'], render: formatDateTime },
          {
            title: '操作',
            key: 'op',
            width: 90,
            render: (_, a) => (
              <Button size="small" icon={<DownloadOutlined />} onClick={() => void download(a)} aria-label={`下载 ${a.filename}`}>
                下载
              </Button>
            ),
          },
        ]}
      />
    </>
  );
}
