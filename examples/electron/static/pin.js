// Runs in the PIN dialog page; window.pinDialog comes from pin-preload.ts.
const params = new URLSearchParams(location.search);
document.getElementById('title').textContent = params.get('title') || 'Security key PIN';
document.getElementById('detail').textContent = params.get('detail') || '';
document.getElementById('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('pin');
  window.pinDialog.submit(input.value);
  input.value = '';
});
document.getElementById('cancel').addEventListener('click', () => window.pinDialog.cancel());
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') window.pinDialog.cancel(); });
