-- Argo CD health check for kubetune.io/FineTuneJob.
-- Key in argocd-cm: resource.customizations.health.kubetune.io_FineTuneJob
-- Running/Pending/Validating/Queued -> Progressing, Succeeded -> Healthy, Failed -> Degraded,
-- Suspended -> Suspended. A status that describes an older generation is Progressing whatever
-- its phase says, because it does not describe the current spec yet.
local hs = {}

local function condition(status, type)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function message(status, type, fallback)
  local c = condition(status, type)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the kubetune operator to report status"
  return hs
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local phase = status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  local adapter = status.adapter and status.adapter.path
  hs.message = adapter and ("Adapter written to " .. adapter) or "Training succeeded"
elseif phase == "Failed" then
  hs.status = "Degraded"
  local fallback = (status.error and status.error.message) or "Training failed"
  hs.message = message(status, "Failed", fallback)
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = message(status, "Suspended", "Suspended by spec.suspend")
elseif phase == "Running" then
  hs.status = "Progressing"
  local percent = status.progress and status.progress.percent
  hs.message = percent and ("Training: " .. percent) or message(status, "Running", "Training")
else
  -- Pending, Validating, Queued, or no phase yet.
  hs.status = "Progressing"
  hs.message = message(status, "Reconciling", phase or "Waiting for the operator")
end
return hs
