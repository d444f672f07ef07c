/* Behaviour the templates ask for with data attributes, so no page needs an inline script or event handler
   (the Content-Security-Policy allows scripts from the portal's own static files only). */
"use strict";

// <select data-autosubmit>: choosing an option submits its form (the organisation switcher).
document.addEventListener("change", function (event) {
  var select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) {
    select.form.submit();
  }
});

// <form data-confirm="Question?">: ask before submitting a destructive action.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
