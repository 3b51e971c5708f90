'use strict';
// The node's parameters: a resource and an operation for every function of the component's
// `steps` and `sync` interfaces, and fields named after the WIT records' fields.

const show = (resource, operations) => ({ show: { resource: [resource], operation: operations } });

const ROLES = [
  { name: 'Member', value: 'member' },
  { name: 'Manager', value: 'manager' },
  { name: 'Admin', value: 'admin' },
];
const NUMBER_TYPES = [
  { name: 'Messaging', value: 'messaging', description: "The agent's private messaging number" },
  { name: 'Supervised', value: 'supervised', description: 'The number of a supervised inbox the agent owns' },
];
const INBOX_TYPES = [
  { name: 'Shared', value: 'shared' },
  { name: 'Supervised', value: 'supervised' },
];
const agentIdentifiers = (...values) =>
  [
    { name: 'User Object ID', value: 'user-object-id' },
    { name: 'Consistency ID', value: 'consistency-id' },
    { name: 'UPN', value: 'upn' },
    { name: 'Platform ID', value: 'id' },
    { name: 'Tenant ID', value: 'tenant-id' },
    { name: 'Phone Number', value: 'phone-number' },
  ].filter((option) => values.includes(option.value));

/// The optional text fields an agent shares between `new-agent` and `agent-changes`.
const AGENT_TEXT_FIELDS = [
  ['UPN', 'upn', 'User principal name'],
  ['Consistency ID', 'consistencyId'],
  ['Brand Name', 'brandName'],
  ['Department', 'department'],
  ['Region', 'region'],
  ['State', 'state'],
  ['District', 'district'],
  ['Store', 'store'],
  ['City', 'city'],
  ['Zip Code', 'zipCode'],
].map(([displayName, name, description]) => ({ displayName, name, type: 'string', default: '', description }));

const ENABLED_SERVICES = [
  ['Messages Tab', 'messages'],
  ['Supervised Inbox Tab', 'supervisedInbox'],
  ['Calls Tab', 'calls'],
  ['Shared Inbox Tab', 'sharedInbox'],
].map(([displayName, name]) => ({
  displayName,
  name: `service_${name}`,
  type: 'boolean',
  default: true,
  description: `Whether the agent can use the app's ${displayName.replace(' Tab', '').toLowerCase()} tab`,
}));

const identifierFields = (prefix, label, identifiers, defaultIdentifier, operations, resource) => [
  {
    displayName: `${label} Identifier`,
    name: `${prefix}Identifier`,
    type: 'options',
    options: identifiers,
    default: defaultIdentifier,
    displayOptions: show(resource, operations),
  },
  {
    displayName: `${label} Values`,
    name: `${prefix}Values`,
    type: 'string',
    required: true,
    default: '',
    description: 'One value, or several separated by commas',
    displayOptions: show(resource, operations),
  },
];

/// `new-agent`: the agent to onboard (and a sync roster's agent).
const newAgentFields = (operations) => [
  {
    displayName: 'User Object ID',
    name: 'userObjectId',
    type: 'string',
    required: true,
    default: '',
    description: 'The Entra ID object ID of the user',
    displayOptions: show(operations.resource, operations.operations),
  },
  {
    displayName: 'Tenant ID',
    name: 'tenantId',
    type: 'string',
    required: true,
    default: '',
    description: 'The Entra ID tenant ID',
    displayOptions: show(operations.resource, operations.operations),
  },
  {
    displayName: 'Name',
    name: 'name',
    type: 'string',
    required: true,
    default: '',
    description: 'Display name',
    displayOptions: show(operations.resource, operations.operations),
  },
  {
    displayName: 'Additional Fields',
    name: 'agentFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show(operations.resource, operations.operations),
    options: [
      ...AGENT_TEXT_FIELDS,
      {
        displayName: 'Roles',
        name: 'roles',
        type: 'multiOptions',
        options: ROLES,
        default: [],
        description: 'Without roles the API assigns Member',
      },
      ...ENABLED_SERVICES,
    ],
  },
  {
    displayName: 'Numbers',
    name: 'numberProvisioning',
    type: 'fixedCollection',
    typeOptions: { multipleValues: true, maxAllowedFields: 2 },
    placeholder: 'Add Number',
    default: {},
    description: 'At most two numbers, at most one of each type',
    displayOptions: show(operations.resource, operations.operations),
    options: [
      {
        name: 'number',
        displayName: 'Number',
        values: [
          { displayName: 'Type', name: 'type', type: 'options', options: NUMBER_TYPES, default: 'messaging' },
          {
            displayName: 'Phone Number',
            name: 'phoneNumber',
            type: 'string',
            default: '',
            placeholder: '+12345678901',
            description: 'E.164',
          },
          {
            displayName: 'Supervisor Identifier',
            name: 'supervisorIdentifier',
            type: 'options',
            options: agentIdentifiers('user-object-id', 'upn', 'consistency-id'),
            default: 'user-object-id',
            description: 'Supervised numbers only',
          },
          {
            displayName: 'Supervisors',
            name: 'supervisorValues',
            type: 'string',
            default: '',
            description: 'Supervisors of the supervised inbox, separated by commas; supervised numbers only',
          },
        ],
      },
    ],
  },
];

/// `agent-changes`: what an update sets; a field not added stays as it is.
const changeFields = (operations) => [
  {
    displayName: 'Changes',
    name: 'changes',
    type: 'collection',
    placeholder: 'Add Change',
    default: {},
    displayOptions: show('agent', operations),
    options: [
      { displayName: 'User Object ID', name: 'userObjectId', type: 'string', default: '' },
      { displayName: 'Tenant ID', name: 'tenantId', type: 'string', default: '' },
      { displayName: 'Name', name: 'name', type: 'string', default: '' },
      ...AGENT_TEXT_FIELDS,
      { displayName: 'Assign Roles', name: 'rolesAssign', type: 'multiOptions', options: ROLES, default: [] },
      { displayName: 'Remove Roles', name: 'rolesRemove', type: 'multiOptions', options: ROLES, default: [] },
      ...ENABLED_SERVICES,
      {
        displayName: 'Active',
        name: 'active',
        type: 'boolean',
        default: true,
        description: 'Whether the account is enabled; off disables it: the agent can no longer use the app',
      },
    ],
  },
  {
    displayName: 'Phone Numbers',
    name: 'phoneNumbers',
    type: 'fixedCollection',
    typeOptions: { multipleValues: true, maxAllowedFields: 2 },
    placeholder: 'Add Number',
    default: {},
    description: 'Number assignment changes: the messaging number, or the supervised inbox number',
    displayOptions: show('agent', operations),
    options: [
      {
        name: 'number',
        displayName: 'Number',
        values: [
          { displayName: 'Type', name: 'type', type: 'options', options: NUMBER_TYPES, default: 'messaging' },
          { displayName: 'Phone Number', name: 'value', type: 'string', default: '', placeholder: '+12345678901' },
        ],
      },
    ],
  },
];

const agentOperations = {
  displayName: 'Operation',
  name: 'operation',
  type: 'options',
  noDataExpression: true,
  displayOptions: { show: { resource: ['agent'] } },
  default: 'onboardAgents',
  options: [
    {
      name: 'Onboard',
      value: 'onboardAgents',
      action: 'Onboard agents',
      description: 'Onboard every input item as an agent, ten per request (onboard-agents)',
    },
    { name: 'Get', value: 'getAgent', action: 'Get an agent', description: 'Read one agent per input item (get-agent)' },
    { name: 'Get Many', value: 'listAgents', action: 'List agents', description: 'List the agents that match the filters (list-agents)' },
    { name: 'Update', value: 'updateAgent', action: 'Update an agent', description: 'Update one agent per input item and return it (update-agent)' },
    {
      name: 'Update Many',
      value: 'updateAgents',
      action: 'Update agents',
      description: 'Update every input item\'s agent, ten per request (update-agents)',
    },
    { name: 'Offboard', value: 'offboardAgent', action: 'Offboard an agent', description: 'Offboard one agent per input item (offboard-agent)' },
    {
      name: 'Offboard Many',
      value: 'offboardAgents',
      action: 'Offboard agents',
      description: 'Offboard every input item\'s agents, ten per request (offboard-agents)',
    },
  ],
};

const properties = [
  {
    displayName: 'Resource',
    name: 'resource',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Agent', value: 'agent' },
      { name: 'Inbox', value: 'inbox' },
      { name: 'Number', value: 'number' },
      { name: 'Roster Sync', value: 'sync' },
    ],
    default: 'agent',
  },
  agentOperations,
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['inbox'] } },
    default: 'createInboxes',
    options: [
      { name: 'Create', value: 'createInboxes', action: 'Create inboxes', description: 'Create one inbox per input item (create-inboxes)' },
      {
        name: 'Assign',
        value: 'assignInboxes',
        action: 'Assign agents to inboxes',
        description: 'Add agents to or remove them from an inbox, one assignment per input item (assign-inboxes)',
      },
    ],
  },
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['number'] } },
    default: 'listNumbers',
    options: [{ name: 'Get Many', value: 'listNumbers', action: 'List numbers', description: 'List the registered numbers (list-numbers)' }],
  },
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['sync'] } },
    default: 'plan',
    options: [
      {
        name: 'Plan',
        value: 'plan',
        action: 'Plan a roster sync',
        description: 'Read the live agents and say what would make them equal to the input items, the roster (sync.plan)',
      },
      {
        name: 'Apply',
        value: 'apply',
        action: 'Apply a roster sync plan',
        description: 'Make exactly the changes of each input item\'s plan (sync.apply)',
      },
    ],
  },

  // ---- agent: onboard ----------------------------------------------------------------------
  ...newAgentFields({ resource: 'agent', operations: ['onboardAgents'] }),
  {
    displayName: 'Options',
    name: 'onboardOptions',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: show('agent', ['onboardAgents']),
    options: [
      {
        displayName: 'Reassign Inbox',
        name: 'reassignInbox',
        type: 'boolean',
        default: false,
        description: 'Whether a new agent may take over the supervised inbox of an offboarded or deactivated agent that holds the number',
      },
    ],
  },

  // ---- agent: one agent by id ---------------------------------------------------------------
  {
    displayName: 'Agent ID',
    name: 'id',
    type: 'string',
    required: true,
    default: '',
    description: 'The value of the field that Key names',
    displayOptions: show('agent', ['getAgent', 'updateAgent', 'offboardAgent']),
  },
  {
    displayName: 'Key',
    name: 'keyId',
    type: 'options',
    options: agentIdentifiers('user-object-id', 'consistency-id', 'upn'),
    default: 'user-object-id',
    description: 'Which field Agent ID is',
    displayOptions: show('agent', ['getAgent']),
  },
  {
    displayName: 'Key',
    name: 'keyId',
    type: 'options',
    options: agentIdentifiers('user-object-id', 'consistency-id', 'id'),
    default: 'user-object-id',
    description: 'Which field Agent ID is',
    displayOptions: show('agent', ['updateAgent', 'offboardAgent']),
  },
  {
    displayName: 'Also Match UPN',
    name: 'upn',
    type: 'string',
    default: '',
    description: "When set, the agent's UPN must match too",
    displayOptions: show('agent', ['getAgent']),
  },

  // ---- agent: list --------------------------------------------------------------------------
  {
    displayName: 'Filters',
    name: 'filter',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    description: 'All given filters must match',
    displayOptions: show('agent', ['listAgents']),
    options: [
      { displayName: 'User Object ID', name: 'userObjectId', type: 'string', default: '' },
      { displayName: 'Tenant ID', name: 'tenantId', type: 'string', default: '' },
      { displayName: 'Consistency ID', name: 'consistencyId', type: 'string', default: '' },
      { displayName: 'Phone Number', name: 'phoneNumber', type: 'string', default: '', description: 'A messaging or supervised-inbox number, E.164' },
      { displayName: 'UPN', name: 'upn', type: 'string', default: '' },
    ],
  },

  // ---- agent: update ------------------------------------------------------------------------
  ...identifierFields('target', 'Agent', agentIdentifiers('user-object-id', 'consistency-id', 'upn'), 'user-object-id', ['updateAgents'], 'agent').map(
    (field) => (field.name === 'targetValues' ? { ...field, displayName: 'Agent', name: 'targetValue', description: 'The agent to update' } : field),
  ),
  ...changeFields(['updateAgent', 'updateAgents']),

  // ---- agent: offboard ----------------------------------------------------------------------
  ...identifierFields('agents', 'Agents', agentIdentifiers('user-object-id', 'consistency-id', 'upn', 'tenant-id', 'phone-number'), 'user-object-id', ['offboardAgents'], 'agent'),
  {
    displayName: 'Deprovision Supervised Inbox',
    name: 'deprovisionSupervisedInbox',
    type: 'boolean',
    default: false,
    description: "Whether to also deprovision the agent's supervised inbox and release its number",
    displayOptions: show('agent', ['offboardAgent', 'offboardAgents']),
  },

  // ---- inbox: create ------------------------------------------------------------------------
  { displayName: 'Inbox Name', name: 'inboxName', type: 'string', required: true, default: '', displayOptions: show('inbox', ['createInboxes']) },
  { displayName: 'Inbox Type', name: 'inboxType', type: 'options', options: INBOX_TYPES, default: 'shared', displayOptions: show('inbox', ['createInboxes', 'assignInboxes']) },
  {
    displayName: 'Phone Number',
    name: 'inboxPhoneNumber',
    type: 'string',
    required: true,
    default: '',
    placeholder: '+12345678901',
    displayOptions: show('inbox', ['createInboxes']),
  },
  {
    displayName: 'Owner Identifier',
    name: 'ownerIdentifier',
    type: 'options',
    options: agentIdentifiers('user-object-id', 'upn', 'consistency-id'),
    default: 'user-object-id',
    displayOptions: show('inbox', ['createInboxes']),
  },
  {
    displayName: 'Owner',
    name: 'ownerValue',
    type: 'string',
    default: '',
    description: 'The owner of a supervised inbox (required for supervised inboxes)',
    displayOptions: show('inbox', ['createInboxes']),
  },
  ...identifierFields('users', 'Users', agentIdentifiers('user-object-id', 'upn', 'consistency-id'), 'user-object-id', ['createInboxes'], 'inbox').map((field) =>
    field.name === 'usersValues' ? { ...field, required: false, description: 'The agents assigned to the inbox, separated by commas' } : field,
  ),

  // ---- inbox: assign ------------------------------------------------------------------------
  {
    displayName: 'Inbox Identifier',
    name: 'inboxIdentifier',
    type: 'options',
    options: agentIdentifiers('phone-number', 'user-object-id', 'consistency-id', 'upn'),
    default: 'phone-number',
    description: "A shared inbox by its phone number, a supervised inbox by its owner's identifier",
    displayOptions: show('inbox', ['assignInboxes']),
  },
  { displayName: 'Inbox', name: 'inboxValue', type: 'string', required: true, default: '', displayOptions: show('inbox', ['assignInboxes']) },
  ...identifierFields('assignees', 'Agents', agentIdentifiers('user-object-id', 'upn', 'consistency-id'), 'user-object-id', ['assignInboxes'], 'inbox'),
  {
    displayName: 'Assignment',
    name: 'assignment',
    type: 'options',
    options: [
      { name: 'Add', value: 'add' },
      { name: 'Remove', value: 'remove' },
    ],
    default: 'add',
    displayOptions: show('inbox', ['assignInboxes']),
  },

  // ---- number: list -------------------------------------------------------------------------
  {
    displayName: 'Status',
    name: 'status',
    type: 'options',
    options: [
      { name: 'Any', value: '' },
      { name: 'Assigned', value: 'assigned' },
      { name: 'Active (Free)', value: 'active' },
    ],
    default: '',
    displayOptions: show('number', ['listNumbers']),
  },
  {
    displayName: 'Digits',
    name: 'digits',
    type: 'string',
    default: '',
    description: 'Only numbers containing these 1 to 11 digits',
    displayOptions: show('number', ['listNumbers']),
  },

  // ---- sync: plan ---------------------------------------------------------------------------
  ...newAgentFields({ resource: 'sync', operations: ['plan'] }),
  {
    displayName: 'Active',
    name: 'desiredActive',
    type: 'options',
    options: [
      { name: 'Unmanaged', value: '' },
      { name: 'Enabled', value: 'true' },
      { name: 'Disabled', value: 'false' },
    ],
    default: '',
    description: 'Whether the account should be enabled; unmanaged leaves it as it is (a new agent is active)',
    displayOptions: show('sync', ['plan']),
  },
  {
    displayName: 'Manage Shared Inboxes',
    name: 'manageSharedInboxes',
    type: 'boolean',
    default: false,
    description: "Whether the sync sets the agent's shared inboxes to exactly Shared Inboxes",
    displayOptions: show('sync', ['plan']),
  },
  {
    displayName: 'Shared Inboxes',
    name: 'sharedInboxes',
    type: 'string',
    default: '',
    description: 'The phone numbers of the shared inboxes the agent works in, separated by commas',
    displayOptions: { show: { resource: ['sync'], operation: ['plan'], manageSharedInboxes: [true] } },
  },
  {
    displayName: 'Plan Options',
    name: 'planOptions',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: show('sync', ['plan']),
    options: [
      {
        displayName: 'Absent Agents',
        name: 'absent',
        type: 'options',
        options: [
          { name: 'Deactivate', value: 'deactivate' },
          { name: 'Offboard', value: 'offboard' },
        ],
        default: 'deactivate',
        description: 'What happens to a live agent in scope that the roster does not list',
      },
      {
        displayName: 'Max Removals',
        name: 'maxRemovals',
        type: 'number',
        typeOptions: { minValue: 0 },
        default: 0,
        description: 'The most agents the plan may deactivate or offboard; more refuses the plan. Not set: 10% of the agents in scope.',
      },
      {
        displayName: 'Protected',
        name: 'protected',
        type: 'string',
        default: '',
        description: 'User object IDs that are never deactivated or offboarded, separated by commas',
      },
      {
        displayName: 'Scope',
        name: 'scope',
        type: 'fixedCollection',
        typeOptions: { multipleValues: true },
        default: {},
        description: 'Only live agents whose fields all match are in scope (besides those the roster lists)',
        options: [
          {
            name: 'match',
            displayName: 'Match',
            values: [
              {
                displayName: 'Field',
                name: 'field',
                type: 'options',
                options: ['brand-name', 'department', 'region', 'state', 'district', 'store', 'city', 'zip-code'].map((value) => ({ name: value, value })),
                default: 'store',
              },
              { displayName: 'Value', name: 'value', type: 'string', default: '' },
            ],
          },
        ],
      },
    ],
  },

  // ---- sync: apply --------------------------------------------------------------------------
  {
    displayName: 'Plan',
    name: 'plan',
    type: 'json',
    default: '={{ $json }}',
    description: 'A plan, as the Plan operation outputs it',
    displayOptions: show('sync', ['apply']),
  },
  {
    displayName: 'Stop at the First Refused Change',
    name: 'stopAtFirstRefusal',
    type: 'boolean',
    default: false,
    description: 'Whether to stop applying at the first change the API refuses, instead of trying and reporting every change',
    displayOptions: show('sync', ['apply']),
  },
];

module.exports = { properties };
