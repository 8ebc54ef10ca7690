/* The whole text of every list cell on hover, so a cut name can still be read. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("#result_list td, #result_list th").forEach(function (cell) {
    var text = cell.textContent.trim();
    if (text && !cell.title) { cell.title = text; }
  });
});
