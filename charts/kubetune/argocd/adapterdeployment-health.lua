-- Argo CD health check for kubetune.io/AdapterDeployment.
-- Key in argocd-cm: resource.customizations.health.kubetune.io_AdapterDeployment
-- Degraded=True -> Degraded (checked first: serving, but replicas or adapters are missing),
-- Stalled=True -> Degraded (the operator needs a user action), Ready=True -> Healthy,
-- anything else -> Progressing. A status of an older generation is Progressing.
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

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function text(c, fallback)
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

local degraded = condition(status, "Degraded")
local stalled = condition(status, "Stalled")
local ready = condition(status, "Ready")
if isTrue(degraded) then
  hs.status = "Degraded"
  hs.message = text(degraded, "Some replicas or adapters are not serving")
elseif isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = text(stalled, "Stalled")
elseif isTrue(ready) then
  hs.status = "Healthy"
  local loaded = status.loadedAdapters
  hs.message = loaded and ("Serving, adapters loaded: " .. loaded) or text(ready, "Serving")
else
  hs.status = "Progressing"
  hs.message = text(ready, text(condition(status, "Reconciling"), "Waiting for serving pods"))
end
return hs
