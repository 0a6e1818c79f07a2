export function DemoBanner() {
  return (
    <div className="demo-banner" role="note" aria-label="Demo mode">
      <strong className="demo-banner__tag">DEMO</strong>
      <span>Demo mode: calls are simulated and no real phone calls are made.</span>
    </div>
  );
}
