// A page waiting for a background job: polls its JSON status every second, shows it, and reloads once the job is
// over (the page then shows the outcome or takes the reader to it).
(function () {
  const script = document.currentScript;
  const url = script.dataset.statusUrl;
  const shown = document.getElementById("job-status");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((answer) => answer.json())
      .then((job) => {
        shown.textContent = job.label;
        shown.dataset.status = job.status;
        if (job.over) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(() => window.setTimeout(poll, 3000));
  }
  window.setTimeout(poll, 1000);
})();
