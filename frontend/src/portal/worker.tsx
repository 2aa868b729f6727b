/** The logged-in worker (`myWorker`), loaded once for the portal's pages; `reload` after a change. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { Button, Result } from 'antd';
import { ApiError, gql } from '../api/client';
import { describeError } from '../api/errors';
import { endSession } from '../auth/session';
import { ErrorState, LoadingState } from '../components/states';
import { MyWorkerDocument, type WorkerFieldsFragment } from '../graphql/generated';

export type Worker = WorkerFieldsFragment;

interface WorkerValue {
  worker: Worker;
  reload: () => Promise<void>;
}

const WorkerContext = createContext<WorkerValue | null>(null);

export function useWorker(): WorkerValue {
  const value = useContext(WorkerContext);
  if (!value) throw new Error('useWorker outside <WorkerProvider>');
  return value;
}

export const WorkerContextProvider = WorkerContext.Provider;

export function WorkerProvider({ children }: { children: ReactNode }) {
  const [worker, setWorker] = useState<Worker | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      setWorker((await gql(MyWorkerDocument)).myWorker);
    } catch (e) {
      setError(e);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  if (error instanceof ApiError && error.code === 'FORBIDDEN') {
    // A staff account's token: the portal is for worker accounts.
    return (
      <Result
        status="403"
        title="请使用职工账号登录"
        subTitle="当前登录的是工会工作人员账号，职工之家需使用职工本人的手机号码登录。"
        extra={<Button type="primary" onClick={() => endSession('LOGOUT')}>重新登录</Button>}
      />
    );
  }
  if (error) return <ErrorState error={error} onRetry={() => void load()} title={describeError(error)} />;
  if (!worker) return <LoadingState minHeight={320} />;
  return <WorkerContext.Provider value={{ worker, reload: load }}>{children}</WorkerContext.Provider>;
}
