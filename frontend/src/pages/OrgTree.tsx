/**
 * Org tree: browse the union hierarchy lazily (children load when a node opens), search by name,
 * and — for tenant admins, inside their subtree — create, rename, move and deactivate units.
 */
import { useCallback, useEffect, useMemo, useState, type Key } from 'react';
import {
  App,
  Alert,
  Badge,
  Button,
  Card,
  Col,
  Descriptions,
  Form,
  Input,
  List,
  Row,
  Select,
  Space,
  Tag,
  Tree,
  Typography,
  type TreeDataNode,
} from 'antd';
import { EditOutlined, PlusOutlined, DragOutlined, StopOutlined, SearchOutlined } from '@ant-design/icons';
import { gql } from '../api/client';
import { describeError, errorMessage } from '../api/errors';
import { useGql } from '../api/useGql';
import {
  OrgChildrenDocument,
  OrgUnitCreateDocument,
  OrgUnitDeactivateDocument,
  OrgUnitDetailDocument,
  OrgUnitMoveDocument,
  OrgUnitRenameDocument,
  OrgUnitsPageDocument,
  type OrgLevel,
  type OrgUnitCreateMutation,
  type OrgUnitFieldsFragment,
  type OrgUnitMoveMutation,
  type OrgUnitRenameMutation,
  type OrgUnitsPageQuery,
} from '../graphql/generated';
import { useAuth } from '../auth/AuthProvider';
import { PageContainer } from '../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { MutationDialog } from '../components/MutationDialog';
import { OrgUnitPicker } from '../components/OrgUnitPicker';
import { LEVEL_LABELS, STAFF_ROLES } from '../lib/labels';
import { childLevelsOf, useOrgLevels } from '../api/reference';
import { formatDateTime } from '../lib/format';

type Unit = OrgUnitFieldsFragment;

interface NodeInfo {
  unit: Unit;
  parentId: string | null;
  writable: boolean;
  /** undefined until the children have been loaded */
  childIds?: string[];
}

type Dialog = { kind: 'create' | 'rename' | 'move'; unit: Unit } | null;

function UnitTitle({ unit }: { unit: Unit }) {
  return (
    <span className={unit.active ? undefined : 'hj-muted'}>
      {unit.name}
      {!unit.active && (
        <Tag className="hj-tag-inline" color="default">
          已停用
        </Tag>
      )}
    </span>
  );
}

export default function OrgTree() {
  const { me, can } = useAuth();
  const { message, modal } = App.useApp();
  const levelRules = useOrgLevels().data;
  const [nodes, setNodes] = useState<Record<string, NodeInfo>>({});
  const [rootIds, setRootIds] = useState<string[] | null>(null);
  const [rootsError, setRootsError] = useState<unknown>(null);
  const [expanded, setExpanded] = useState<Key[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [searchText, setSearchText] = useState('');
  const [searchResults, setSearchResults] = useState<OrgUnitsPageQuery['orgUnits']['nodes'] | null>(null);
  const [searching, setSearching] = useState(false);

  const adminIds = useMemo(
    () => new Set(me.grants.filter((g) => g.role === 'TENANT_ADMIN' && g.orgUnit).map((g) => g.orgUnit!.id)),
    [me.grants],
  );
  const mayWrite = can('org.write');

  // Roots: the units where the user holds a staff role, minus those inside another root.
  const loadRoots = useCallback(async () => {
    setRootsError(null);
    try {
      const ids = [...new Set(me.grants.filter((g) => STAFF_ROLES.has(g.role) && g.orgUnit).map((g) => g.orgUnit!.id))];
      const details = await Promise.all(ids.map((id) => gql(OrgUnitDetailDocument, { id })));
      const units = details.map((d) => d.orgUnit).filter((u): u is NonNullable<typeof u> => !!u);
      const idSet = new Set(units.map((u) => u.id));
      const roots = units.filter((u) => !u.ancestors.some((a) => idSet.has(a.id)));
      roots.sort((a, b) => a.depth - b.depth || a.name.localeCompare(b.name, 'zh-CN'));
      setNodes((prev) => {
        const next = { ...prev };
        for (const u of roots) {
          next[u.id] = {
            unit: u,
            parentId: u.parent?.id ?? null,
            writable: adminIds.has(u.id) || u.ancestors.some((a) => adminIds.has(a.id)),
            childIds: prev[u.id]?.childIds,
          };
        }
        return next;
      });
      setRootIds(roots.map((u) => u.id));
      if (roots.length > 0) {
        setSelectedId((s) => s ?? roots[0].id);
        setExpanded((e) => (e.length ? e : [roots[0].id]));
      }
    } catch (e) {
      setRootsError(e);
    }
  }, [me.grants, adminIds]);

  useEffect(() => {
    void loadRoots();
  }, [loadRoots]);

  const loadChildren = useCallback(
    async (id: string): Promise<string[]> => {
      const data = await gql(OrgChildrenDocument, { id });
      const children = data.orgUnit?.children ?? [];
      setNodes((prev) => {
        const parent = prev[id];
        const next = { ...prev };
        for (const c of children) {
          next[c.id] = {
            unit: c,
            parentId: id,
            writable: (parent?.writable ?? false) || adminIds.has(c.id),
            childIds: prev[c.id]?.childIds,
          };
        }
        if (parent) next[id] = { ...parent, childIds: children.map((c) => c.id) };
        return next;
      });
      return children.map((c) => c.id);
    },
    [adminIds],
  );

  // Load the root's children up front so the tree opens populated.
  useEffect(() => {
    for (const id of rootIds ?? []) {
      if (!nodes[id]?.childIds) void loadChildren(id).catch(() => undefined);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rootIds]);

  const selected = selectedId ? nodes[selectedId] : undefined;
  const detail = useGql(OrgUnitDetailDocument, { id: selectedId ?? '' }, { skip: !selectedId });

  useEffect(() => {
    if (selectedId && nodes[selectedId] && !nodes[selectedId].childIds) void loadChildren(selectedId).catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedId]);

  const treeData = useMemo(() => {
    const build = (id: string): TreeDataNode => {
      const n = nodes[id];
      return {
        key: id,
        title: <UnitTitle unit={n.unit} />,
        isLeaf: n.unit.level === 'GRASSROOTS' || (n.childIds !== undefined && n.childIds.length === 0),
        children: n.childIds?.filter((c) => nodes[c]).map(build),
      };
    };
    return (rootIds ?? []).filter((id) => nodes[id]).map(build);
  }, [nodes, rootIds]);

  /** Open the tree down to a unit found by search, then select it. */
  const reveal = async (id: string) => {
    try {
      const d = await gql(OrgUnitDetailDocument, { id });
      const unit = d.orgUnit;
      if (!unit) return;
      const chain = unit.ancestors.map((a) => a.id);
      const startAt = chain.findIndex((a) => rootIds?.includes(a));
      const path = startAt >= 0 ? chain.slice(startAt) : [];
      for (const a of path) await loadChildren(a);
      setExpanded((e) => [...new Set([...e, ...path])]);
      setSelectedId(id);
    } catch (e) {
      message.error(describeError(e));
    }
  };

  const runSearch = async (text: string) => {
    setSearchText(text);
    if (!text.trim()) {
      setSearchResults(null);
      return;
    }
    setSearching(true);
    try {
      const data = await gql(OrgUnitsPageDocument, { filter: { nameContains: text.trim() }, first: 20 });
      setSearchResults(data.orgUnits.nodes);
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setSearching(false);
    }
  };

  const refreshAfter = async (unitId: string, parentIds: (string | null | undefined)[]) => {
    for (const p of new Set(parentIds)) if (p && nodes[p]) await loadChildren(p).catch(() => undefined);
    if (rootIds?.includes(unitId)) await loadRoots();
    await detail.refetch();
  };

  const deactivate = (unit: Unit) => {
    modal.confirm({
      title: `停用“${unit.name}”？`,
      content: '停用后该组织不能再新增下级、发展会员或记账，历史数据保留。只有没有在用下级组织的单位才能停用。',
      okText: '停用',
      okButtonProps: { danger: true },
      cancelText: '取消',
      onOk: async () => {
        try {
          const { orgUnitDeactivate: r } = await gql(OrgUnitDeactivateDocument, { id: unit.id });
          if (r.errors.length) {
            message.error(
              errorMessage(r.errors[0].code, r.errors[0].field, {
                CONFLICT: '该组织仍有在用的下级组织，请先停用或移走下级组织',
                INVALID_HIERARCHY: '不能停用本省总工会',
              }),
            );
            return;
          }
          message.success(`已停用“${unit.name}”`);
          await refreshAfter(unit.id, [nodes[unit.id]?.parentId]);
        } catch (e) {
          message.error(describeError(e));
        }
      },
    });
  };

  const canWrite = (n?: NodeInfo) => !!n && mayWrite && n.writable;

  const selectedUnit = detail.data?.orgUnit;
  const children = selected?.childIds?.map((c) => nodes[c]).filter(Boolean) ?? [];

  return (
    <PageContainer
      title="组织架构"
      subTitle="省、市、县（区）总工会，产业工会与基层工会"
      extra={
        selected && canWrite(selected) && selected.unit.active && childLevelsOf(levelRules, selected.unit.level).length > 0 ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog({ kind: 'create', unit: selected.unit })}>
            新建下级组织
          </Button>
        ) : null
      }
    >
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={10} xl={9}>
          <Card size="small" className="hj-panel" title={<Typography.Title level={2} className="hj-card-title">组织树</Typography.Title>}>
            <Input.Search
              allowClear
              placeholder="按名称搜索组织"
              aria-label="按名称搜索组织"
              enterButton={<SearchOutlined aria-label="搜索" />}
              loading={searching}
              onSearch={runSearch}
              style={{ marginBottom: 12 }}
            />
            {searchResults !== null && (
              <div className="hj-search-results" aria-live="polite">
                <Space style={{ justifyContent: 'space-between', width: '100%' }}>
                  <Typography.Text type="secondary">
                    “{searchText}”的搜索结果：{searchResults.length} 个
                  </Typography.Text>
                  <Button type="link" size="small" onClick={() => setSearchResults(null)}>
                    清除
                  </Button>
                </Space>
                {searchResults.length === 0 ? (
                  <EmptyState description="没有找到匹配的组织" />
                ) : (
                  <List
                    size="small"
                    dataSource={searchResults}
                    renderItem={(u) => (
                      <List.Item>
                        <Button type="link" size="small" onClick={() => void reveal(u.id)} className="hj-link-button">
                          {u.name}
                        </Button>
                        <Typography.Text type="secondary">{u.parent?.name ?? LEVEL_LABELS[u.level]}</Typography.Text>
                      </List.Item>
                    )}
                  />
                )}
              </div>
            )}
            {rootsError ? (
              <ErrorState error={rootsError} onRetry={() => void loadRoots()} />
            ) : rootIds === null ? (
              <LoadingState />
            ) : rootIds.length === 0 ? (
              <EmptyState description="您没有可查看的组织" />
            ) : (
              <div className="hj-tree-scroll">
                <Tree
                  aria-label="组织树"
                  showLine
                  blockNode
                  treeData={treeData}
                  expandedKeys={expanded}
                  onExpand={(keys) => setExpanded(keys)}
                  selectedKeys={selectedId ? [selectedId] : []}
                  onSelect={(keys) => keys.length && setSelectedId(String(keys[0]))}
                  loadData={async (node) => {
                    const id = String(node.key);
                    if (nodes[id]?.childIds) return;
                    try {
                      await loadChildren(id);
                    } catch (e) {
                      message.error(describeError(e));
                    }
                  }}
                />
              </div>
            )}
          </Card>
        </Col>
        <Col xs={24} lg={14} xl={15}>
          <Card
            size="small"
            className="hj-panel"
            title={<Typography.Title level={2} className="hj-card-title">{selectedUnit?.name ?? '组织详情'}</Typography.Title>}
            extra={
              selected && canWrite(selected) ? (
                <Space wrap size={4}>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setDialog({ kind: 'rename', unit: selected.unit })}>
                    重命名
                  </Button>
                  {selected.unit.depth > 0 && (
                    <Button size="small" icon={<DragOutlined />} onClick={() => setDialog({ kind: 'move', unit: selected.unit })}>
                      移动
                    </Button>
                  )}
                  {selected.unit.depth > 0 && selected.unit.active && (
                    <Button size="small" danger icon={<StopOutlined />} onClick={() => deactivate(selected.unit)}>
                      停用
                    </Button>
                  )}
                </Space>
              ) : null
            }
          >
            {!selectedId ? (
              <EmptyState description="请在左侧选择一个组织" />
            ) : detail.error ? (
              <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
            ) : !selectedUnit ? (
              detail.loading ? <LoadingState /> : <EmptyState description="组织不存在或无权查看" />
            ) : (
              <>
                <Descriptions column={{ xs: 1, sm: 2, lg: 1, xxl: 2 }} size="small" bordered styles={{ label: { width: 112, whiteSpace: 'nowrap' } }}>
                  <Descriptions.Item label="名称">{selectedUnit.name}</Descriptions.Item>
                  <Descriptions.Item label="编码">
                    <Typography.Text code>{selectedUnit.code}</Typography.Text>
                  </Descriptions.Item>
                  <Descriptions.Item label="层级">{LEVEL_LABELS[selectedUnit.level]}</Descriptions.Item>
                  <Descriptions.Item label="行政区划代码">{selectedUnit.areaCode ?? '—'}</Descriptions.Item>
                  <Descriptions.Item label="状态">
                    {selectedUnit.active ? <Badge status="success" text="在用" /> : <Badge status="default" text="已停用" />}
                  </Descriptions.Item>
                  <Descriptions.Item label="创建时间">{formatDateTime(selectedUnit.createdAt)}</Descriptions.Item>
                  <Descriptions.Item label="上级组织" span="filled">
                    {selectedUnit.ancestors.length ? selectedUnit.ancestors.map((a) => a.name).join(' / ') : '（本省总工会）'}
                  </Descriptions.Item>
                </Descriptions>
                <Typography.Title level={3} className="hj-section-title">
                  下级组织
                </Typography.Title>
                {selected?.childIds === undefined ? (
                  <LoadingState minHeight={80} />
                ) : children.length === 0 ? (
                  <EmptyState description="暂无下级组织" />
                ) : (
                  <List
                    size="small"
                    dataSource={children}
                    renderItem={(c) => (
                      <List.Item
                        actions={[<Typography.Text key="lvl" type="secondary">{LEVEL_LABELS[c.unit.level]}</Typography.Text>]}
                      >
                        <Button
                          type="link"
                          size="small"
                          className="hj-link-button"
                          onClick={() => {
                            setExpanded((e) => [...new Set([...e, selectedId])]);
                            setSelectedId(c.unit.id);
                          }}
                        >
                          <UnitTitle unit={c.unit} />
                        </Button>
                      </List.Item>
                    )}
                  />
                )}
              </>
            )}
          </Card>
        </Col>
      </Row>
      {dialog?.kind === 'create' && (
        <CreateDialog
          parent={dialog.unit}
          levels={childLevelsOf(levelRules, dialog.unit.level)}
          onClose={() => setDialog(null)}
          onDone={async (created) => {
            setDialog(null);
            message.success(`已创建“${created.name}”`);
            await loadChildren(dialog.unit.id);
            setExpanded((e) => [...new Set([...e, dialog.unit.id])]);
            setSelectedId(created.id);
          }}
        />
      )}
      {dialog?.kind === 'rename' && (
        <RenameDialog
          unit={dialog.unit}
          onClose={() => setDialog(null)}
          onDone={async (u) => {
            setDialog(null);
            message.success('已重命名');
            setNodes((prev) => (prev[u.id] ? { ...prev, [u.id]: { ...prev[u.id], unit: u } } : prev));
            await detail.refetch();
          }}
        />
      )}
      {dialog?.kind === 'move' && (
        <MoveDialog
          unit={dialog.unit}
          onClose={() => setDialog(null)}
          onDone={async (u, newParentId) => {
            const oldParent = nodes[u.id]?.parentId;
            setDialog(null);
            message.success(`已将“${u.name}”移到新的上级组织下`);
            await refreshAfter(u.id, [oldParent, newParentId]);
            await reveal(u.id);
          }}
        />
      )}
    </PageContainer>
  );
}

interface CreateForm {
  name: string;
  code: string;
  level: OrgLevel;
  areaCode?: string;
}

function CreateDialog({ parent, levels, onClose, onDone }: { parent: Unit; levels: OrgLevel[]; onClose: () => void; onDone: (u: Unit) => Promise<void> }) {
  return (
    <MutationDialog<CreateForm, OrgUnitCreateMutation['orgUnitCreate']>
      title="新建下级组织"
      okText="创建"
      name="org-create"
      onClose={onClose}
      initialValues={{ level: levels[0] }}
      intro={<Typography.Paragraph type="secondary">上级组织：{parent.name}</Typography.Paragraph>}
      mutate={async (v) =>
        (
          await gql(OrgUnitCreateDocument, {
            input: { parentId: parent.id, name: v.name.trim(), code: v.code.trim(), level: v.level, areaCode: v.areaCode?.trim() || null },
          })
        ).orgUnitCreate
      }
      isDone={(r) => !!r.orgUnit}
      onDone={(r) => onDone(r.orgUnit!)}
      errorOptions={{
        messages: {
          'code.DUPLICATE': '该编码已被本省其他组织使用',
          'level.INVALID_HIERARCHY': '该层级不能设在所选上级组织之下',
          'parentId.INACTIVE': '上级组织已停用，不能新建下级',
        },
      }}
    >
      <Form.Item label="组织名称" name="name" rules={[{ required: true, whitespace: true, message: '请输入组织名称' }, { max: 200, message: '名称不能超过 200 个字' }]}>
        <Input placeholder="例如：某某公司工会委员会" autoFocus />
      </Form.Item>
      <Form.Item
        label="组织编码"
        name="code"
        tooltip="本省内唯一，用于导入导出和对接，创建后不可修改"
        rules={[
          { required: true, whitespace: true, message: '请输入组织编码' },
          { pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, message: '编码以字母或数字开头，只能包含字母、数字和 - _ .' },
          { max: 64, message: '编码不能超过 64 个字符' },
        ]}
      >
        <Input placeholder={`例如：${parent.code}-xxx`} />
      </Form.Item>
      <Form.Item label="组织层级" name="level" rules={[{ required: true, message: '请选择组织层级' }]}>
        <Select options={levels.map((l) => ({ value: l, label: LEVEL_LABELS[l] }))} />
      </Form.Item>
      <Form.Item label="行政区划代码" name="areaCode" rules={[{ pattern: /^(\d{6}|\d{9}|\d{12})$/, message: '行政区划代码为 6、9 或 12 位数字' }]} extra="可选，民政部 GB/T 2260 代码">
        <Input inputMode="numeric" maxLength={12} placeholder="例如：310101" />
      </Form.Item>
    </MutationDialog>
  );
}

function RenameDialog({ unit, onClose, onDone }: { unit: Unit; onClose: () => void; onDone: (u: Unit) => Promise<void> }) {
  return (
    <MutationDialog<{ name: string }, OrgUnitRenameMutation['orgUnitRename']>
      title={`重命名“${unit.name}”`}
      okText="保存"
      name="org-rename"
      onClose={onClose}
      initialValues={{ name: unit.name }}
      mutate={async (v) => (await gql(OrgUnitRenameDocument, { id: unit.id, name: v.name.trim() })).orgUnitRename}
      isDone={(r) => !!r.orgUnit}
      onDone={(r) => onDone(r.orgUnit!)}
    >
      <Form.Item label="新名称" name="name" rules={[{ required: true, whitespace: true, message: '请输入新名称' }, { max: 200, message: '名称不能超过 200 个字' }]}>
        <Input autoFocus />
      </Form.Item>
    </MutationDialog>
  );
}

function MoveDialog({ unit, onClose, onDone }: { unit: Unit; onClose: () => void; onDone: (u: Unit, newParentId: string) => Promise<void> }) {
  return (
    <MutationDialog<{ newParentId: string }, OrgUnitMoveMutation['orgUnitMove']>
      title={`移动“${unit.name}”`}
      okText="移动"
      name="org-move"
      onClose={onClose}
      intro={<Alert type="info" showIcon message="该组织的全部下级组织将一并移动。" style={{ marginBottom: 16 }} />}
      mutate={async (v) => (await gql(OrgUnitMoveDocument, { id: unit.id, newParentId: v.newParentId })).orgUnitMove}
      isDone={(r) => !!r.orgUnit}
      onDone={(r, v) => onDone(r.orgUnit!, v.newParentId)}
      errorOptions={{
        fieldMap: { parentId: 'newParentId' },
        messages: {
          'parentId.INVALID_HIERARCHY': '不能移到自身或其下级组织之下',
          'parentId.INACTIVE': '所选上级组织已停用',
          'newParentId.INVALID_HIERARCHY': '不能移到自身或其下级组织之下，且新上级的层级须高于本组织',
          'level.INVALID_HIERARCHY': '本组织的层级不能设在所选上级组织之下',
          'newParentId.FORBIDDEN': '您无权管理所选的上级组织',
        },
      }}
    >
      <Form.Item label="新的上级组织" name="newParentId" rules={[{ required: true, message: '请选择新的上级组织' }]}>
        <OrgUnitPicker excludeIds={[unit.id]} />
      </Form.Item>
    </MutationDialog>
  );
}
