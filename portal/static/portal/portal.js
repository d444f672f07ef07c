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

// <form data-confirm="Question?">: ask before submitting a destructive action. A checked
// <input type="checkbox" data-confirm="Question?"> inside a form asks too: the option's own consequence.
document.addEventListener("submit", function (event) {
  var questions = [event.target.getAttribute("data-confirm")];
  event.target.querySelectorAll("input[data-confirm]:checked").forEach(function (input) {
    questions.push(input.getAttribute("data-confirm"));
  });
  for (var i = 0; i < questions.length; i++) {
    if (questions[i] && !window.confirm(questions[i])) {
      event.preventDefault();
      return;
    }
  }
});
