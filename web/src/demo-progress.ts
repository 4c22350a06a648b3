import { type Reply, api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

type DemoProgress = Reply<'/api/v1/demo/progress'>;

let timer: ReturnType<typeof setTimeout> | undefined;

/**
 * A banner while `npm start` fills in the demo county's months behind the running server: it polls
 * the progress every few seconds and says which months are ready; it stays empty otherwise.
 */
export function demoProgressBanner(): HTMLElement {
  const banner = h('div', { class: 'notice', role: 'status', hidden: true });
  if (timer) clearTimeout(timer);
  let wasBuilding = false;
  const poll = async () => {
    if (!banner.isConnected && timer !== undefined) return;
    try {
      const progress = await api<DemoProgress>('/api/v1/demo/progress');
      if (progress.demo && !progress.complete) {
        wasBuilding = true;
        banner.hidden = false;
        banner.textContent =
          progress.monthsReady === 0
            ? t('demoBuildingNone')
            : t('demoBuilding')
                .replace('{done}', String(progress.monthsReady))
                .replace('{total}', String(progress.monthsTotal))
                .replace('{latest}', progress.latestReady ?? '');
        timer = setTimeout(poll, 5000);
      } else if (wasBuilding) {
        banner.textContent = t('demoReadyReload');
      }
    } catch {
      timer = setTimeout(poll, 10000);
    }
  };
  timer = setTimeout(poll, 0);
  return banner;
}
