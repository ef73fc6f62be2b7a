/** The stylesheet, served from /audit/assets/style.css (the CSP allows styles from the same origin only). */
export const STYLESHEET = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --accent: #0969da;
  --low: #1a7f37; --medium: #9a6700; --high: #bc4c00; --critical: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: var(--fg); }
header.top { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #24292f; color: #fff; }
header.top a { color: #fff; text-decoration: none; margin-right: 14px; opacity: .85; }
header.top a[aria-current] { opacity: 1; font-weight: 600; border-bottom: 2px solid #fff; }
.brand { font-weight: 700; }
.who { margin-left: auto; display: flex; gap: 8px; align-items: center; }
main { padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; white-space: nowrap; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: var(--muted); }
.risk { font-weight: 600; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; }
.risk-low { background: var(--low); } .risk-medium { background: var(--medium); } .risk-high { background: var(--high); } .risk-critical { background: var(--critical); }
.decision { font-weight: 600; } .decision-approved { color: var(--low); } .decision-waiting { color: var(--medium); } .decision-failed { color: var(--critical); } .decision-overridden { color: var(--high); } .decision-merged { color: var(--low); } .decision-closed { color: var(--muted, #6a737d); }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; background: var(--bg); padding: 10px; border: 1px solid var(--line); border-radius: 6px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 6px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; margin: 12px 0; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.chart h3 { margin: 0 0 4px; font-size: 14px; }
.pager { display: flex; gap: 12px; margin: 8px 0; }
.status { padding: 10px 12px; border-radius: 6px; border: 1px solid var(--line); margin: 8px 0; }
.status-ok { background: #dafbe1; border-color: #4ac26b; } .status-broken { background: #ffebe9; border-color: #ff8182; }
.evaluation { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.evaluation h3 { margin: 0 0 6px; font-size: 15px; }
.counted { color: var(--low); font-weight: 600; } .refused { color: var(--critical); font-weight: 600; }
.rationale { border: 1px solid var(--line); border-radius: 6px; padding: 4px 16px; background: #fff; overflow-x: auto; }
.rationale pre { background: var(--bg); padding: 8px; overflow-x: auto; }
.exports a { margin-right: 12px; }
.blocked { color: var(--critical); } .allowed { color: var(--low); }
`;
