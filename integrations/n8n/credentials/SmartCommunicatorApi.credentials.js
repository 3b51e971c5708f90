'use strict';

/// The connection to one SmartCommunicator account, kept in n8n's credential store (encrypted
/// with the instance's key), never in a workflow.
class SmartCommunicatorApi {
  constructor() {
    this.name = 'smartCommunicatorApi';
    this.displayName = 'SmartCommunicator API';
    this.documentationUrl = 'https://docs.intelepeer.com/Atmosphere/Content/Atmosphere-APIs/Managing-Agents-Using-SmartCommunicator-APIs.htm';
    this.icon = 'file:../nodes/SmartCommunicator/smartcomm.svg';
    this.properties = [
      {
        displayName: 'Customer ID',
        name: 'customerId',
        type: 'string',
        required: true,
        default: '',
        description: 'Your account ID: the first path segment of every users-API request',
      },
      { displayName: 'Username', name: 'username', type: 'string', required: true, default: '' },
      {
        displayName: 'Password',
        name: 'password',
        type: 'string',
        typeOptions: { password: true },
        required: true,
        default: '',
      },
      {
        displayName: 'API URL',
        name: 'apiUrl',
        type: 'string',
        default: 'https://smartcommunicator-api-users.intelepeer.com',
        description: 'Base URL of the users API',
      },
      {
        displayName: 'Authenticate URL',
        name: 'authUrl',
        type: 'string',
        default: 'https://atmosphere-api.intelepeer.com/rest/v1/authenticate',
      },
      {
        displayName: 'Requests in Flight',
        name: 'concurrency',
        type: 'number',
        typeOptions: { minValue: 1, maxValue: 64 },
        default: 4,
        description: 'How many requests of one call may be in flight at once; the component lowers it when the API throttles',
      },
      {
        displayName: 'Call Deadline (Seconds)',
        name: 'callDeadline',
        type: 'number',
        typeOptions: { minValue: 1, maxValue: 86400 },
        default: 300,
        description: 'The longest one call may take; at it the call returns what it has, the rest reported as not attempted',
      },
    ];
  }
}

module.exports = { SmartCommunicatorApi };
