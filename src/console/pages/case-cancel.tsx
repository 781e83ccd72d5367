/**
 * Cancelling a case from its page (agents, ops leads, admins): asks why, then
 * `POST /v1/cases/{id}/cancel`. The case's compensations run and it closes `cancelled`; `onCancelled`
 * reads the case again.
 */
import { useState } from 'preact/hooks';
import type { Cancelled, CaseView } from '../../api-contract/cases.js';
import { api } from '../api.js';
import { useT, type Messages } from '../i18n.js';
import type { Session } from '../session.js';

type Key = 'cancel' | 'why' | 'confirm' | 'keep' | 'cancelling' | 'accepted' | 'duplicate' | 'refused';

const MESSAGES: Messages<Key> = {
  en: {
    cancel: 'Cancel case',
    why: 'Why is this case cancelled? (recorded with your name)',
    confirm: 'Cancel the case',
    keep: 'Keep it open',
    cancelling: 'Cancelling…',
    accepted: 'The case is being cancelled: what it waits for is stopped, its compensations run, paid refunds go to finance.',
    duplicate: 'The case is already being cancelled.',
    refused: 'The case was not cancelled: {why}',
  },
  zh: {
    cancel: '取消工单',
    why: '取消原因（将与您的名字一起记录）',
    confirm: '确认取消',
    keep: '不取消',
    cancelling: '正在取消…',
    accepted: '工单正在取消：停止等待，执行补偿步骤，已付退款转交财务。',
    duplicate: '工单已在取消中。',
    refused: '工单未取消：{why}',
  },
};

/** The roles that may cancel a case (docs/api.md). */
export const MAY_CANCEL = ['agent', 'ops-lead', 'admin'];

export function CancelCase({ session, caseId, onCancelled }: { session: Session; caseId: string; onCancelled: () => void }) {
  const t = useT(MESSAGES);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ text: string; failed: boolean } | null>(null);

  const cancel = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setNotice({ text: t('cancelling'), failed: false });
    try {
      const answer = await api<Cancelled>(session, 'POST', `/v1/cases/${encodeURIComponent(caseId)}/cancel`, { reason: reason.trim() });
      setNotice({ text: t(answer.status === 'accepted' ? 'accepted' : 'duplicate'), failed: false });
      setAsking(false);
      // The compensations run in the case's workflow: read the case again once it has closed.
      for (let i = 0; i < 30; i++) {
        const shown = await api<CaseView>(session, 'GET', `/v1/cases/${encodeURIComponent(caseId)}`).catch(() => null);
        if (shown?.status === 'closed') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      onCancelled();
    } catch (failure) {
      setNotice({ text: t('refused', { why: failure instanceof Error ? failure.message : String(failure) }), failed: true });
    }
    setBusy(false);
  };

  return (
    <div class="case-cancel">
      {!asking && (
        <button type="button" class="secondary" onClick={() => setAsking(true)} disabled={busy}>
          {t('cancel')}
        </button>
      )}
      {asking && (
        <form onSubmit={(event) => void cancel(event)} aria-label={t('cancel')}>
          <label for="cancel-reason">{t('why')}</label>
          <textarea id="cancel-reason" rows={2} maxLength={500} required value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
          <button type="submit" disabled={busy || reason.trim() === ''}>
            {t('confirm')}
          </button>
          <button type="button" class="secondary" onClick={() => setAsking(false)} disabled={busy}>
            {t('keep')}
          </button>
        </form>
      )}
      {notice && (
        <p class={notice.failed ? 'error' : 'notice'} role="status">
          {notice.text}
        </p>
      )}
    </div>
  );
}
