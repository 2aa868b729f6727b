import { errorMessage, type UserError } from '../../api/errors';
import { MUTUAL_AID_ERRORS } from './labels';
import { useGql } from '../../api/useGql';
import { MutualAidPlansDocument, type MutualAidPlanFieldsFragment } from '../../graphql/generated';

export type Plan = MutualAidPlanFieldsFragment;

/** The tenant's plans, once per page (the province plugin's plans less the disabled ones). */
export function usePlans() {
  const q = useGql(MutualAidPlansDocument);
  return { ...q, plans: q.data?.mutualAidPlans ?? [] };
}

export const planOptions = (plans: readonly Plan[]) => plans.map((p) => ({ value: p.code, label: p.nameZh }));

/** A file as base64 without the data-URL prefix (the API takes contentBase64). */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * The minimum enrolment ratio that applies to a unit: the small-unit ratio at or below the plan's
 * small-unit size, else the ratio for the unit's kind, else the plan's general minimum.
 */
export function requiredRatioBp(plan: Plan, unitKind: string | undefined, eligible: number): number {
  if (plan.smallUnitStaff != null && plan.smallUnitRatioBp != null && eligible > 0 && eligible <= plan.smallUnitStaff) return plan.smallUnitRatioBp;
  const byKind = plan.minRatioByUnitKind.find((r) => r.unitKind.toUpperCase() === (unitKind ?? '').toUpperCase());
  return byKind ? byKind.minRatioBp : plan.minRatioBp;
}

/** chosen/eligible in basis points, rounded down so the screen never says "met" when the server will not. */
export const ratioBp = (chosen: number, eligible: number) => (eligible > 0 ? Math.floor((chosen * 10000) / eligible) : 0);

/** A payload error in Chinese: the server's own sentence (it names the rule that failed), else this capability's text for the code. */
export function errorText(e: UserError): string {
  return e.messageZh && /[\u4e00-\u9fff]/.test(e.messageZh) ? e.messageZh : errorMessage(e.code, e.field, MUTUAL_AID_ERRORS);
}

/** Whether a claim of ``kind`` under ``plan`` is a disability the plan grades by its day rule, so the
 * form asks for the grading dates. */
export const isDisabilityKind = (plan: { disabilityKinds: readonly string[] }, kind: string) => plan.disabilityKinds.includes(kind);
