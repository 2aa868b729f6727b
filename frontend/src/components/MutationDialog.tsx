/**
 * THE mutation dialog: a modal form → one mutation → the payload's errors beside their fields (the
 * rest in a FormAlert at the top) → on success `onDone` (close, message, refresh). A thrown request
 * (network, FORBIDDEN…) lands in the FormAlert in Chinese; the dialog stays open with what was typed.
 *
 *   <MutationDialog
 *     title="重命名" okText="保存" name="org-rename" onClose={close}
 *     mutate={async (v) => (await gql(OrgUnitRenameDocument, { id, name: v.name })).orgUnitRename}
 *     onDone={async (r) => { close(); await refetch(); }}
 *     errorOptions={{ messages: { 'name.DUPLICATE': '…' } }}
 *   >
 *     <Form.Item label="新名称" name="name" rules={[…]}><Input /></Form.Item>
 *   </MutationDialog>
 *
 * `useMutationForm` is the same machinery for a form that is not in a modal (a page, a drawer).
 */
import { useState, type ReactNode } from 'react';
import { Form, Modal, type FormInstance, type FormProps, type ModalProps } from 'antd';
import { ERROR_MESSAGES, applyUserErrors, describeError, type ApplyOptions, type FormLevelError, type UserError } from '../api/errors';
import { FormAlert } from './FormAlert';

export interface MutationOptions<Values, P extends { errors: readonly UserError[] }> {
  /** Send the mutation; return its payload (`{ errors, … }`). */
  mutate: (values: Values) => Promise<P>;
  /** Called once the payload has no errors (and `isDone` agrees). */
  onDone: (payload: P, values: Values) => void | Promise<void>;
  /** Success beyond "no errors" (e.g. the payload's object is there). */
  isDone?: (payload: P) => boolean;
  /** Server field → form field, and this form's Chinese texts by `field.code` or `code`. */
  errorOptions?: ApplyOptions;
}

export function useMutationForm<Values, P extends { errors: readonly UserError[] }>(form: FormInstance<Values>, options: MutationOptions<Values, P>) {
  const [busy, setBusy] = useState(false);
  const [formErrors, setFormErrors] = useState<FormLevelError[]>([]);
  const submit = async (values: Values) => {
    setBusy(true);
    setFormErrors([]);
    try {
      const payload = await options.mutate(values);
      if (payload.errors.length || (options.isDone && !options.isDone(payload))) {
        const rest = applyUserErrors(form, payload.errors, options.errorOptions);
        // a payload without its object but with no error still must not look like success
        setFormErrors(rest.length || payload.errors.length ? rest : [{ code: 'INTERNAL', text: ERROR_MESSAGES.INTERNAL ?? '' }]);
        return;
      }
      await options.onDone(payload, values);
    } catch (e) {
      setFormErrors([{ code: 'INTERNAL', text: describeError(e) }]);
    } finally {
      setBusy(false);
    }
  };
  return { busy, formErrors, setFormErrors, submit };
}

export function MutationDialog<Values, P extends { errors: readonly UserError[] }>({
  title,
  okText = '确定',
  danger = false,
  width,
  name,
  form: givenForm,
  initialValues,
  onValuesChange,
  intro,
  footer,
  onClose,
  children,
  ...options
}: MutationOptions<Values, P> & {
  title: ReactNode;
  okText?: string;
  danger?: boolean;
  width?: ModalProps['width'];
  /** The form's name (field ids are `<name>_<field>`). */
  name: string;
  /** Pass a form to watch its values (Form.useWatch) from outside. */
  form?: FormInstance<Values>;
  initialValues?: Partial<Values>;
  /** Fill one field from another as the user types (e.g. a default name from a picked province). */
  onValuesChange?: FormProps<Values>['onValuesChange'];
  /** Shown above the errors and the form (a note on what the action does). */
  intro?: ReactNode;
  footer?: ModalProps['footer'];
  onClose: () => void;
  children: ReactNode;
}) {
  const [ownForm] = Form.useForm<Values>();
  const form = givenForm ?? ownForm;
  const { busy, formErrors, submit } = useMutationForm(form, options);
  return (
    <Modal
      open
      title={title}
      okText={okText}
      okButtonProps={danger ? { danger: true } : undefined}
      cancelText="取消"
      onOk={() => form.submit()}
      confirmLoading={busy}
      onCancel={onClose}
      destroyOnHidden
      width={width}
      footer={footer}
    >
      {intro}
      <FormAlert errors={formErrors} />
      <Form<Values> form={form} layout="vertical" name={name} onFinish={(v) => void submit(v)} initialValues={initialValues} onValuesChange={onValuesChange}>
        {children}
      </Form>
    </Modal>
  );
}
