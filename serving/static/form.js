// Sends the form to POST /v1/predictions with the officer's key and shows PD, decision (approve,
// refer to a person, decline), why a referral was made, and reasons.
"use strict";
const form = document.getElementById("application");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {};
  for (const input of form.querySelectorAll("input[data-kind]")) {
    if (input.value.trim() !== "") body[input.name] = input.value.trim();
  }
  const error = document.getElementById("error");
  const result = document.getElementById("result");
  error.hidden = true;
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const response = await fetch("/v1/predictions", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Authorization": "Bearer " + document.getElementById("api_key").value,
    },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) {
    result.hidden = true;
    // Each detail names its field in its message; the field's input is marked as well.
    const details = data.details || [];
    error.textContent = data.message + (details.length ? ": " : "")
      + details.map((d) => d.message).join("; ");
    for (const d of details) {
      const input = document.getElementById("f_" + d.field);
      if (input) input.setAttribute("aria-invalid", "true");
    }
    error.hidden = false;
    return;
  }
  document.getElementById("pd").textContent = (100 * data.probability_of_default).toFixed(2) + " %";
  const decision = document.getElementById("decision");
  decision.textContent = data.decision;
  decision.className = data.decision;
  const referral = document.getElementById("referral");
  referral.replaceChildren(...(data.referral_reasons || []).map((r) => {
    const li = document.createElement("li");
    li.textContent = r.message;
    return li;
  }));
  document.getElementById("referral_block").hidden = referral.children.length === 0;
  document.getElementById("model_version").textContent = data.model_version;
  document.getElementById("prediction_id").textContent = data.prediction_id;
  const reasons = document.getElementById("reasons");
  reasons.replaceChildren(...data.reason_codes.map((r) => {
    const li = document.createElement("li");
    li.textContent = typeof r === "string" ? r : JSON.stringify(r);
    return li;
  }));
  result.hidden = false;
});
